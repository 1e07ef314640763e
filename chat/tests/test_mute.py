"""Per-room mute (issue 15 §1): a muted room sends its member no mention or direct-message notifications and no
live lobby bump (the count still exists, and shows muted), until the time given or until unmuted."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import services
from chat.models import Membership
from hub.protocol import iso
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_muted_room_notifies_nobody_and_does_not_bump_the_lobby(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await amake_room("lounge", members=[alice, bob])
    b_room, b_lobby, a_room = await connect(bob), await connect(bob), await connect(alice)
    await b_room.ok("room:lounge", "join")
    await a_room.ok("room:lounge", "join")
    await b_lobby.ok("chat", "join")
    reply = await b_room.ok("room:lounge", "mute", {"muted": True, "until": None})
    assert reply == {"muted": True, "until": None}
    pushed = await b_lobby.expect("chat", "room")  # every lobby of bob's hears of it
    assert pushed["room"]["muted"] is True and pushed["room"]["muted_until"] is None
    await b_room.ok("room:lounge", "leave")  # bob is not looking at the room now
    await a_room.ok("room:lounge", "send", {"body": "@bob are you there?"})
    assert await b_lobby.nothing(0.5, topic="chat", event="unread")  # no bump ...
    assert not await database_sync_to_async(Notification.objects.exists)()  # ... and no notification
    rooms = (await b_lobby.ok("chat", "join"))["rooms"]
    lounge = next(r for r in rooms if r["slug"] == "lounge")
    assert lounge["unread"] == 1 and lounge["muted"] is True  # the count is still there
    # Unmuted: the next mention notifies and bumps again.
    await b_room.ok("room:lounge", "join")
    assert (await b_room.ok("room:lounge", "mute", {"muted": False}))["muted"] is False
    await b_room.ok("room:lounge", "leave")
    await a_room.ok("room:lounge", "send", {"body": "@bob now?"})
    assert (await b_lobby.expect("chat", "unread"))["unread"] == 2
    assert await database_sync_to_async(Notification.objects.filter(recipient=bob).count)() == 1


async def test_a_timed_mute_ends_by_itself(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await amake_room("lounge", members=[alice, bob])
    until = timezone.now() + timedelta(hours=1)
    comm = await connect(bob)
    await comm.ok("room:lounge", "join")
    reply = await comm.ok("room:lounge", "mute", {"muted": True, "until": iso(until)})
    assert reply == {"muted": True, "until": iso(until)}
    # An hour later (the time moved in the database): not muted any more.
    await database_sync_to_async(Membership.objects.filter(room=room, user=bob).update)(
        muted_until=timezone.now() - timedelta(seconds=1))
    msg, _ = await database_sync_to_async(services.message_send)(room=room, author=alice, body="@bob hi")
    assert await database_sync_to_async(services.mention_notify)(message=msg, present_user_ids=set())
    rooms = (await comm.ok("chat", "join"))["rooms"]
    assert next(r for r in rooms if r["slug"] == "lounge")["muted"] is False


async def test_a_muted_direct_conversation_sends_no_notifications(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    dm, _ = await database_sync_to_async(services.dm_open)(user=alice, username="bob")
    comm = await connect(bob)
    await comm.ok(f"room:{dm.slug}", "join")
    await comm.ok(f"room:{dm.slug}", "mute", {"muted": True})
    msg, _ = await database_sync_to_async(services.message_send)(room=dm, author=alice, body="psst")
    assert await database_sync_to_async(services.mention_notify)(message=msg, present_user_ids=set()) == []


@pytest.mark.parametrize("payload", [
    {}, {"muted": "yes"}, {"muted": True, "until": "tomorrow"}, {"muted": True, "until": 5},
    {"muted": True, "until": "2001-01-01T00:00:00Z"}, {"muted": True, "until": "2999-01-01T00:00:00Z"},
    {"muted": True, "until": "2030-01-01T00:00:00"},
])
async def test_bad_mutes_are_bad_requests(amake_user, amake_room, connect, payload):
    bob = await amake_user("bob")
    await amake_room("lounge", members=[bob])
    comm = await connect(bob)
    await comm.ok("room:lounge", "join")
    assert (await comm.error("room:lounge", "mute", payload))["code"] == "bad_request"

"""Chat services and the edges of the room topic: rollbacks push nothing, DMs stay private, typing is throttled."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from chat import services
from chat.models import Message
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


async def quiet(comm, seconds=0.8):
    """Read every frame that arrives within `seconds` into comm.buffer (no frame has this topic)."""
    assert await comm.nothing(seconds, topic="(none)")


async def test_a_rolled_back_send_pushes_nothing(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await amake_room("lounge", members=[bob])
    b = await connect(bob)
    await b.ok("chat", "join")
    await b.ok("room:lounge", "join")

    def send_then_fail():
        with transaction.atomic():
            services.message_send(room=room, author=alice, body="never happened")
            raise Rollback

    with pytest.raises(Rollback):
        await database_sync_to_async(send_then_fail)()
    await quiet(b)
    assert not [f for f in b.buffer if f.get("event") in ("message", "unread")]
    assert not await database_sync_to_async(Message.objects.exists)()
    message, created = await database_sync_to_async(services.message_send)(room=room, author=alice, body="real")
    assert created and (await b.expect("room:lounge", "message"))["message"]["id"] == message.pk


async def test_direct_rooms_are_invisible_to_a_third_user(amake_user, connect):
    alice, bob, eve = await amake_user("alice"), await amake_user("bob"), await amake_user("eve")
    a, e = await connect(alice), await connect(eve)
    await a.ok("chat", "join")
    await e.ok("chat", "join")
    slug = (await a.ok("chat", "open_dm", {"username": "bob"}))["room"]["slug"]
    await a.ok(f"room:{slug}", "join")
    await a.ok(f"room:{slug}", "send", {"body": "just us"})
    assert (await e.error(f"room:{slug}", "join"))["code"] == "forbidden"
    assert await e.nothing(0.4)
    assert slug not in [r["slug"] for r in (await e.ok("chat", "join"))["rooms"]]


async def test_a_dm_to_someone_looking_at_it_does_not_notify(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    a, b = await connect(alice), await connect(bob)
    await a.ok("chat", "join")
    slug = (await a.ok("chat", "open_dm", {"username": "bob"}))["room"]["slug"]
    await b.ok(f"room:{slug}", "join")
    await a.ok(f"room:{slug}", "join")
    await a.ok(f"room:{slug}", "send", {"body": "you see this live"})
    await b.expect(f"room:{slug}", "message")
    assert not await database_sync_to_async(Notification.objects.exists)()
    await b.ok(f"room:{slug}", "leave")
    await a.ok(f"room:{slug}", "send", {"body": "now you are away"})
    assert await database_sync_to_async(Notification.objects.filter(recipient=bob).count)() == 1


async def test_typing_relays_are_throttled_per_user(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    a = await connect(alice)
    await a.ok("room:lounge", "join")
    b = await connect(bob)
    await b.ok("room:lounge", "join")
    bursts = 12
    for _ in range(bursts):
        assert await a.ok("room:lounge", "typing", {"typing": True}) == {}
    await quiet(b)
    relayed = [f for f in b.buffer if f.get("event") == "typing"]
    assert 1 <= len(relayed) < bursts

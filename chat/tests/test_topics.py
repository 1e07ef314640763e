"""The chat and room topics through the consumer: every event, every error, permissions."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from chat import app_settings, selectors
from chat.models import Message, Room
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


async def in_room(connect, user, slug, payload=None):
    comm = await connect(user)
    data = await comm.ok(f"room:{slug}", "join", payload or {})
    return comm, data


async def test_join_authorization(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    await amake_room("secret", kind="private", members=[alice])
    comm = await connect(bob)
    nope, secret = await comm.error("room:nope", "join"), await comm.error("room:secret", "join")
    # A private room answers like one that does not exist: the same code, the same message shape.
    assert nope == {"code": "not_found", "message": "No room 'nope'."}
    assert secret == {"code": "not_found", "message": "No room 'secret'."}
    assert (await comm.error("room:secret", "send", {"body": "hi"}))["code"] == "not_joined"
    data = await comm.ok("room:lounge", "join")
    assert data["room"] == {"slug": "lounge", "name": "Lounge", "kind": "public", "unread": 0, "last_message_id": None,
                            "muted": False, "muted_until": None}
    assert data["messages"] == [] and data["more"] is False
    assert [u["username"] for u in data["present"]] == ["bob"]
    alices = await connect(alice)
    assert (await alices.ok("room:secret", "join"))["room"]["kind"] == "private"


async def test_a_member_deleted_through_the_orm_is_out_of_the_room_at_once(amake_user, amake_room, connect):
    """However a membership ends, even a plain ORM delete, every socket of that user leaves the room."""
    from chat.models import Membership

    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("secret", kind="private", members=[alice, bob])
    b, _ = await in_room(connect, bob, "secret")
    b2, _ = await in_room(connect, bob, "secret")  # another tab
    lobby = await connect(bob)
    await lobby.ok("chat", "join")
    await database_sync_to_async(Membership.objects.filter(user=bob).delete)()
    for tab in (b, b2):
        assert await tab.expect("room:secret", "removed") == {"room": "secret"}
        assert (await tab.error("room:secret", "send", {"body": "still here?"}))["code"] == "not_joined"
    assert await lobby.expect("chat", "removed") == {"room": "secret"}
    assert (await b.error("room:secret", "join"))["code"] == "not_found"
    a, _ = await in_room(connect, alice, "secret")
    await a.ok("room:secret", "send", {"body": "bob is gone"})
    await a.expect("room:secret", "message")
    for socket in (b, b2, lobby):
        assert await socket.nothing(0.3), socket.buffer  # no message, no unread count


async def test_send_reaches_everyone_joined_including_the_sender(amake_user, amake_room, connect):
    alice, bob, carol = await amake_user("alice"), await amake_user("bob"), await amake_user("carol")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    b, _ = await in_room(connect, bob, "lounge")
    elsewhere = await connect(carol)
    reply = await a.ok("room:lounge", "send", {"body": "  hello <b>world</b>  ", "client_id": "c1"})
    message = reply["message"]
    assert message["body"] == "hello <b>world</b>" and message["client_id"] == "c1"
    assert message["author"]["username"] == "alice" and message["room"] == "lounge"
    assert message["deleted"] is False and message["edited_at"] is None
    for comm in (a, b):
        assert (await comm.expect("room:lounge", "message"))["message"] == message
    assert await elsewhere.nothing(0.3)


async def test_send_validation_and_idempotent_retry(amake_user, amake_room, connect):
    alice = await amake_user("alice")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    for bad in ({"body": "   "}, {"body": "x" * 4001}, {"body": 5}, {}, {"body": "ok", "client_id": "x" * 65},
                {"body": "ok", "client_id": 7}):
        assert (await a.error("room:lounge", "send", bad))["code"] == "bad_request", bad
    assert (await a.ok("room:lounge", "send", {"body": "x" * 4000}))["message"]["body"] == "x" * 4000
    first = (await a.ok("room:lounge", "send", {"body": "once", "client_id": "same"}))["message"]
    again = (await a.ok("room:lounge", "send", {"body": "once", "client_id": "same"}))["message"]
    assert first == again
    assert await database_sync_to_async(Message.objects.filter(client_id="same").count)() == 1


async def test_two_concurrent_sends_with_one_client_id_store_one_message(amake_user, amake_room, connect):
    alice = await amake_user("alice")
    await amake_room("lounge")
    tab1, _ = await in_room(connect, alice, "lounge")
    tab2, _ = await in_room(connect, alice, "lounge")
    replies = await asyncio.gather(
        tab1.ok("room:lounge", "send", {"body": "race", "client_id": "r1"}),
        tab2.ok("room:lounge", "send", {"body": "race", "client_id": "r1"}),
    )
    assert replies[0]["message"]["id"] == replies[1]["message"]["id"]
    assert await database_sync_to_async(Message.objects.filter(client_id="r1").count)() == 1


async def test_rate_limit_answers_retry_after(amake_user, amake_room, connect, settings):
    settings.HUB_CHAT_RATE = "3/10s"
    alice = await amake_user("alice")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    for i in range(3):
        await a.ok("room:lounge", "send", {"body": f"m{i}"})
    error = await a.error("room:lounge", "send", {"body": "too many"})
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 10


async def test_the_send_rate_holds_in_every_window_not_per_fixed_window(amake_user, amake_room, connect, settings):
    """Sending as fast as allowed for longer than a window: never more than COUNT in any window."""
    settings.HUB_CHAT_RATE = "3/2s"
    alice = await amake_user("alice")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    accepted, started = [], time.monotonic()
    for i in range(40):  # bounded: about 9 sends fit in the 5 s below
        if time.monotonic() - started > 5:
            break
        reply = await a.request("room:lounge", "send", {"body": f"m{i}"})
        if reply["ok"]:
            accepted.append(time.monotonic())
        else:
            assert reply["error"]["code"] == "rate_limited"
            await asyncio.sleep(reply["error"]["retry_after"])  # the server's own answer: wait that long
    assert len(accepted) >= 6
    for i, first in enumerate(accepted):
        assert len([t for t in accepted[i:] if t - first < 1.9]) <= 3, accepted


async def test_room_creation_is_rate_limited_per_user(amake_user, connect, settings):
    settings.HUB_ROOM_OPEN_RATE = "2/1h"
    a = await connect(await amake_user("alice"))
    await a.ok("chat", "join")
    for name in ("One", "Two"):
        await a.ok("chat", "create", {"name": name})
    error = await a.error("chat", "create", {"name": "Three"})
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 3600
    assert await database_sync_to_async(Room.objects.filter(slug="three").exists)() is False


async def test_join_since_history_and_more(amake_user, amake_room, connect, monkeypatch):
    alice = await amake_user("alice")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    ids = [(await a.ok("room:lounge", "send", {"body": f"m{i}"}))["message"]["id"] for i in range(6)]
    data = await a.ok("room:lounge", "join", {"since": ids[2]})
    assert [m["id"] for m in data["messages"]] == ids[3:] and data["more"] is False
    monkeypatch.setattr(app_settings.AppSettings, "SINCE_LIMIT", 2)
    data = await a.ok("room:lounge", "join", {"since": ids[0]})
    assert [m["id"] for m in data["messages"]] == ids[1:3] and data["more"] is True
    monkeypatch.setattr(app_settings.AppSettings, "JOIN_NEWEST", 4)
    data = await a.ok("room:lounge", "join")
    assert [m["id"] for m in data["messages"]] == ids[2:]
    history = await a.ok("room:lounge", "history", {"before": ids[3], "limit": 2})
    assert [m["id"] for m in history["messages"]] == ids[1:3]
    assert (await a.error("room:lounge", "history", {"limit": 101}))["code"] == "bad_request"


async def test_typing_is_relayed_to_the_others_only(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    a2, _ = await in_room(connect, alice, "lounge")  # alice's other tab
    b, _ = await in_room(connect, bob, "lounge")
    await a.ok("room:lounge", "typing", {"typing": True})
    push = await b.expect("room:lounge", "typing")
    assert push == {"user": {"id": alice.pk, "username": "alice", "display_name": "alice"}, "typing": True}
    for own in (a, a2):
        await own.ok("hub", "heartbeat")  # a round trip after the relay reached bob
        assert all(f["event"] != "typing" for f in own.buffer), own.buffer
    assert (await a.error("room:lounge", "typing", {"typing": "yes"}))["code"] == "bad_request"


async def test_read_marker_moves_forward_and_others_hear(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    b, _ = await in_room(connect, bob, "lounge")
    lobby = await connect(bob)
    await lobby.ok("chat", "join")
    # An empty room: the marker cannot move, and nobody is told anything.
    assert await b.ok("room:lounge", "read", {"up_to": 5}) == {"up_to": 0}
    await a.ok("hub", "heartbeat")
    await lobby.ok("hub", "heartbeat")
    assert not [f for f in a.buffer + lobby.buffer if f["event"] in ("read", "unread")]
    ids = [(await a.ok("room:lounge", "send", {"body": f"m{i}"}))["message"]["id"] for i in range(3)]
    assert await b.ok("room:lounge", "read", {"up_to": ids[1]}) == {"up_to": ids[1]}
    push = await a.expect("room:lounge", "read")
    assert push == {"user": {"id": bob.pk, "username": "bob", "display_name": "bob"}, "up_to": ids[1]}
    assert await b.ok("room:lounge", "read", {"up_to": ids[0]}) == {"up_to": ids[1]}  # never backwards
    assert await b.ok("room:lounge", "read", {"up_to": 10**9}) == {"up_to": ids[2]}  # not past the last


async def test_edit_and_delete_by_author_or_a_moderator_only(amake_user, amake_room, connect):
    alice, bob, mod = await amake_user("alice"), await amake_user("bob"), await amake_user("mod", is_superuser=True)
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    b, _ = await in_room(connect, bob, "lounge")
    m, _ = await in_room(connect, mod, "lounge")
    msg = (await a.ok("room:lounge", "send", {"body": "original"}))["message"]
    assert (await b.error("room:lounge", "edit", {"id": msg["id"], "body": "hacked"}))["code"] == "forbidden"
    assert (await b.error("room:lounge", "delete", {"id": msg["id"]}))["code"] == "forbidden"
    edited = (await a.ok("room:lounge", "edit", {"id": msg["id"], "body": "fixed"}))["message"]
    assert edited["body"] == "fixed" and edited["edited_at"]
    assert (await b.expect("room:lounge", "edited"))["message"]["body"] == "fixed"
    deleted = (await m.ok("room:lounge", "delete", {"id": msg["id"]}))["message"]
    assert deleted["deleted"] is True and deleted["body"] == ""
    assert (await b.expect("room:lounge", "deleted"))["message"]["id"] == msg["id"]
    assert (await a.error("room:lounge", "edit", {"id": msg["id"], "body": "again"}))["code"] == "not_found"
    assert (await a.error("room:lounge", "delete", {"id": 10**9}))["code"] == "not_found"


async def test_room_presence_joins_and_leaves(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    b, data = await in_room(connect, bob, "lounge")
    assert sorted(u["username"] for u in data["present"]) == ["alice", "bob"]
    await a.expect("room:lounge", "presence", where=lambda p: "bob" in [u["username"] for u in p["joins"]])
    await b.ok("room:lounge", "leave")
    push = await a.expect("room:lounge", "presence", where=lambda p: p["leaves"])
    assert [u["username"] for u in push["leaves"]] == ["bob"]


async def test_private_rooms_never_leak(amake_user, amake_room, connect):
    alice, bob, eve = await amake_user("alice"), await amake_user("bob"), await amake_user("eve")
    await amake_room("secret", kind="private", members=[alice, bob])
    e = await connect(eve)
    lobby = await e.ok("chat", "join")
    assert "secret" not in [r["slug"] for r in lobby["rooms"]]
    assert (await e.error("room:secret", "join"))["code"] == "not_found"
    a, _ = await in_room(connect, alice, "secret")
    await a.ok("room:secret", "send", {"body": "for members only"})
    assert await e.nothing(0.5)


async def test_lobby_lists_rooms_and_pushes_unread_for_rooms_not_joined(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge", members=[alice, bob])
    lobby_only = await connect(bob)
    data = await lobby_only.ok("chat", "join")
    assert [(r["slug"], r["unread"]) for r in data["rooms"]] == [("lounge", 0)]
    watching = await connect(bob)
    await watching.ok("chat", "join")
    await watching.ok("room:lounge", "join")
    a, _ = await in_room(connect, alice, "lounge")
    msg = (await a.ok("room:lounge", "send", {"body": "hey"}))["message"]
    push = await lobby_only.expect("chat", "unread")
    assert push == {"room": "lounge", "unread": 1, "last_message_id": msg["id"]}
    assert await watching.nothing(0.4, topic="chat")
    await watching.ok("room:lounge", "read", {"up_to": msg["id"]})
    assert (await lobby_only.expect("chat", "unread"))["unread"] == 0


async def test_a_public_room_joined_after_the_lobby_is_listed_and_counted_in_it(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("plaza")  # public; bob is not a member yet
    lobby = await connect(bob)
    await lobby.ok("chat", "join")  # lists public rooms, but counts unread only in the user's rooms
    tab = await connect(bob)
    await tab.ok("room:plaza", "join")  # makes bob a member
    assert (await lobby.expect("chat", "room"))["room"]["slug"] == "plaza"
    await tab.ok("room:plaza", "leave")
    a, _ = await in_room(connect, alice, "plaza")
    msg = (await a.ok("room:plaza", "send", {"body": "anyone?"}))["message"]
    assert await lobby.expect("chat", "unread") == {"room": "plaza", "unread": 1, "last_message_id": msg["id"]}


async def test_open_dm_creates_one_room_per_pair(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    a, b = await connect(alice), await connect(bob)
    await a.ok("chat", "join")
    await b.ok("chat", "join")
    room = (await a.ok("chat", "open_dm", {"username": "bob"}))["room"]
    assert room["kind"] == "direct" and room["name"] == "bob"
    pushed = await b.expect("chat", "room")
    assert pushed["room"]["slug"] == room["slug"] and pushed["room"]["name"] == "alice"
    again = (await b.ok("chat", "open_dm", {"username": "alice"}))["room"]
    assert again["slug"] == room["slug"]
    assert (await a.error("chat", "open_dm", {"username": "nobody"}))["code"] == "not_found"
    assert (await a.error("chat", "open_dm", {"username": "alice"}))["code"] == "bad_request"


async def test_dm_to_someone_not_looking_and_mentions_notify(amake_user, amake_room, connect):
    alice, bob, carol = await amake_user("alice"), await amake_user("bob"), await amake_user("carol")
    await amake_user("eve")  # a user, but not a member of the team room: mentioning her notifies nobody
    a = await connect(alice)
    await a.ok("chat", "join")
    room = (await a.ok("chat", "open_dm", {"username": "bob"}))["room"]
    await a.ok(f"room:{room['slug']}", "join")
    await a.ok(f"room:{room['slug']}", "send", {"body": "are you there?"})
    await amake_room("team", members=[alice, bob, carol])
    await a.ok("room:team", "join")
    await a.ok("room:team", "send", {"body": "@carol, @eve and @nobody please look"})

    def rows():
        return sorted(Notification.objects.values_list("recipient__username", "verb"))

    assert await database_sync_to_async(rows)() == [
        ("bob", "alice sent you a message"), ("carol", "alice mentioned you in Team")]


async def test_create_room_with_members(amake_user, connect):
    alice, bob, eve = await amake_user("alice"), await amake_user("bob"), await amake_user("eve")
    a, b, e = await connect(alice), await connect(bob), await connect(eve)
    for comm in (a, b, e):
        await comm.ok("chat", "join")
    room = (await a.ok("chat", "create", {"name": "Plans", "private": True, "members": ["bob"]}))["room"]
    assert room["kind"] == "private" and room["slug"] == "plans"
    assert (await b.expect("chat", "room"))["room"]["slug"] == "plans"
    assert await e.nothing(0.3)
    assert (await a.error("chat", "create", {"name": "X", "members": ["ghost"]}))["code"] == "not_found"
    assert (await a.error("chat", "create", {"name": ""}))["code"] == "bad_request"
    assert (await a.ok("chat", "create", {"name": "Plans"}))["room"]["slug"] == "plans-2"


async def test_rejoining_a_room_shows_the_others_no_presence_change(amake_user, amake_room, connect):
    """A duplicate join replaces the handler without untracking: nobody sees a leave or a join."""
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    a, _ = await in_room(connect, alice, "lounge")
    b, _ = await in_room(connect, bob, "lounge")
    await a.expect("room:lounge", "presence", where=lambda p: "bob" in [u["username"] for u in p["joins"]])
    from hub import app_settings as hub_settings

    for _ in range(hub_settings.REJOINS_PER_TOPIC):
        data = await b.ok("room:lounge", "join")
        assert sorted(u["username"] for u in data["present"]) == ["alice", "bob"]
    # One more re-join at once is throttled; the socket stays joined as it was.
    assert (await b.error("room:lounge", "join"))["code"] == "rate_limited"
    assert await a.nothing(0.6, topic="room:lounge")
    await b.ok("room:lounge", "send", {"body": "still here"})  # and still joined and subscribed
    assert (await a.expect("room:lounge", "message"))["message"]["body"] == "still here"


async def test_a_refused_rejoin_takes_the_socket_out_of_room_presence(amake_user, amake_room, connect):
    from chat.models import Membership

    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("secret", kind="private", members=[alice, bob])
    a, _ = await in_room(connect, alice, "secret")
    b, _ = await in_room(connect, bob, "secret")
    await database_sync_to_async(Membership.objects.filter(user=bob).delete)()
    assert (await b.error("room:secret", "join"))["code"] == "not_found"
    push = await a.expect("room:secret", "presence", where=lambda p: p["leaves"])
    assert [u["username"] for u in push["leaves"]] == ["bob"]

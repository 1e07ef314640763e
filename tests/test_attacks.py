"""Issue 10's attacks, as a signed-up attacker makes them: real daphne, real sockets, real Redis.

Each test names the point it covers and failed on the code before the fix.
"""

import asyncio
import itertools
import json
import re
import socket

import pytest
import websockets
from channels.db import database_sync_to_async
from django.db import transaction

from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_expect, ws_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-Horse-battery-9"
_refs = itertools.count(1)


async def login(server, username):
    return await asyncio.to_thread(Browserless(server.url).login, username, PASSWORD)


async def request(ws, topic, event, payload=None, buffer=None):
    return await ws_request(ws, topic, event, payload, ref=f"a{next(_refs)}", buffer=buffer)


async def socket_of(server, username, *topics):
    ws, _ = await ws_connect(server, await login(server, username))
    for topic in topics:
        reply = await request(ws, topic, "join")
        assert reply["ok"], reply
    return ws


# --- 1. Removing someone takes effect at once, everywhere


async def test_1_a_member_removed_by_the_rooms_creator_is_out_of_it_within_two_seconds(amake_user):
    from chat import services
    from chat.models import Membership

    alice, bob = await amake_user("alice", password=PASSWORD), await amake_user("bob", password=PASSWORD)
    room = await database_sync_to_async(services.room_create)(
        creator=alice, name="Plans", private=True, member_usernames=["bob"])
    topic = f"room:{room.slug}"
    with DaphneServer() as server:
        a = await socket_of(server, "alice", topic)
        b_room = await socket_of(server, "bob", topic, "chat")
        b_lobby = await socket_of(server, "bob", "chat")
        assert (await request(a, topic, "remove", {"username": "BOB"}))["data"] == {"username": "bob"}
        buffered = []
        assert await ws_expect(b_room, topic, "removed", timeout=2, buffer=buffered) == {"room": room.slug}
        assert await ws_expect(b_lobby, "chat", "removed", timeout=2) == {"room": room.slug}
        # Out of the topic: no history, no typing, no read (which once re-created the membership).
        for event, payload in (("history", {}), ("typing", {"typing": True}), ("read", {"up_to": 10**6})):
            assert (await request(b_room, topic, event, payload))["error"]["code"] == "not_joined"
        assert (await request(b_room, topic, "join"))["error"]["code"] == "not_found"
        await request(a, topic, "send", {"body": "bob is gone"})
        with pytest.raises(TimeoutError):
            await ws_expect(b_room, topic, "message", timeout=0.5)
        assert not await database_sync_to_async(Membership.objects.filter(room=room, user=bob).exists)()
        for ws in (a, b_room, b_lobby):
            await ws.close()


async def test_1_leaving_and_hiding_and_a_room_made_private(amake_user, amake_room):
    from chat import services
    from chat.models import Membership

    alice = await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_user("carol", password=PASSWORD)
    town = await database_sync_to_async(services.room_create)(
        creator=alice, name="Town", private=False, member_usernames=["bob"])
    dm, _ = await database_sync_to_async(services.dm_open)(user=alice, username="bob")
    with DaphneServer() as server:
        carol = await socket_of(server, "carol", f"room:{town.slug}", "chat")  # a member by joining it
        bob = await socket_of(server, "bob", f"room:{dm.slug}", "chat")
        # A direct room cannot be left, only hidden: bob's lobby drops it, his open room stays.
        assert (await request(bob, "chat", "leave_room", {"room": dm.slug}))["data"] == {"room": dm.slug}
        assert await ws_expect(bob, "chat", "removed") == {"room": dm.slug}
        assert dm.slug not in [r["slug"] for r in (await request(bob, "chat", "join"))["data"]["rooms"]]
        assert (await request(bob, f"room:{dm.slug}", "history"))["ok"]
        # The room made private keeps the members it had explicitly (bob), not carol.
        await database_sync_to_async(services.room_update)(room=town, name="Town", kind="private")
        assert await ws_expect(carol, f"room:{town.slug}", "removed", timeout=2) == {"room": town.slug}
        members = await database_sync_to_async(
            lambda: sorted(Membership.objects.filter(room=town).values_list("user__username", flat=True)))()
        assert members == ["alice", "bob"]
        # Anyone may leave a private room; their sockets leave with them.
        ann = await socket_of(server, "alice", f"room:{town.slug}", "chat")
        assert (await request(ann, "chat", "leave_room", {"room": town.slug}))["ok"]
        assert await ws_expect(ann, f"room:{town.slug}", "removed", timeout=2) == {"room": town.slug}
        for ws in (carol, bob, ann):
            await ws.close()


# --- 2. No existence oracle


async def test_2_private_rooms_and_conversations_of_others_answer_like_rooms_that_do_not_exist(amake_user, amake_room):
    from chat import services

    alice = await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_user("eve", password=PASSWORD)
    await amake_room("secret", kind="private", members=[alice])
    dm, _ = await database_sync_to_async(services.dm_open)(user=alice, username="bob")
    assert re.fullmatch(r"dm-[0-9a-f]{16}", dm.slug)  # random: the slug says nothing of who talks
    with DaphneServer(HUB_ROOM_OPEN_RATE="3/1h") as server:
        eve = await socket_of(server, "eve", "chat")
        answers = [(await request(eve, f"room:{slug}", "join"))["error"] for slug in ("secret", dm.slug, "nope")]
        assert [a["code"] for a in answers] == ["not_found"] * 3
        assert [a["message"] for a in answers] == [f"No room {slug!r}." for slug in ("secret", dm.slug, "nope")]
        page = Browserless(server.url).login("eve", PASSWORD)
        for path in ("/chat/secret/", f"/chat/{dm.slug}/", "/chat/nope/"):
            with pytest.raises(Exception) as refused:
                await asyncio.to_thread(page.get, path)
            assert getattr(refused.value, "code", None) == 404
        # Unknown usernames: one answer, whichever names are unknown, and every try counts.
        unknown = [(await request(eve, "chat", event, payload))["error"] for event, payload in (
            ("open_dm", {"username": "ghost"}), ("create", {"name": "X", "members": ["bob", "ghost"]}))]
        assert {(e["code"], e["message"]) for e in unknown} == {("not_found", "One or more of those users cannot be found.")}
        assert (await request(eve, "chat", "open_dm", {"username": "bob"}))["ok"]  # the third try
        assert (await request(eve, "chat", "open_dm", {"username": "alice"}))["error"]["code"] == "rate_limited"
        await eve.close()


# --- 3. (chat's part) edits and deletes count against the send rate


async def test_3_edits_and_deletes_count_against_the_chat_rate(amake_user, amake_room):
    await amake_user("alice", password=PASSWORD)
    await amake_room("lounge")
    with DaphneServer(HUB_CHAT_RATE="3/30s") as server:
        ws = await socket_of(server, "alice", "room:lounge")
        message = (await request(ws, "room:lounge", "send", {"body": "one"}))["data"]["message"]
        assert (await request(ws, "room:lounge", "edit", {"id": message["id"], "body": "two"}))["ok"]
        assert (await request(ws, "room:lounge", "edit", {"id": message["id"], "body": "three"}))["ok"]
        refused = await request(ws, "room:lounge", "edit", {"id": message["id"], "body": "four"})
        assert refused["error"]["code"] == "rate_limited"
        assert (await request(ws, "room:lounge", "delete", {"id": message["id"]}))["error"]["code"] == "rate_limited"
        await ws.close()


# --- 3. Expensive events draw on one budget per account, whatever the number of sockets


async def test_3_history_pages_from_many_sockets_draw_on_one_budget_per_account(amake_user, amake_room):
    await fill_room(amake_user, amake_room, count=10, body_chars=10)
    with DaphneServer(HUB_USER_BUDGET="30/60s") as server:  # three pages a minute, refilled slowly
        tabs = [await socket_of(server, "alice", "room:lounge") for _ in range(4)]  # joins weigh 5: 20 spent
        bob = await socket_of(server, "bob", "room:lounge")
        assert (await request(tabs[0], "room:lounge", "history", {"limit": 10}))["ok"]  # 30 of 30
        for ws in tabs:
            refused = await request(ws, "room:lounge", "history", {"limit": 10})
            assert refused["error"]["code"] == "rate_limited" and refused["error"]["retry_after"] > 10
        assert (await request(tabs[1], "room:lounge", "send", {"body": "sends are not weighed"}))["ok"]
        assert (await request(bob, "room:lounge", "history", {"limit": 10}))["ok"]
        for ws in (*tabs, bob):
            await ws.close()


# --- 3. A client flipping its status cannot make everyone else's sockets busy


async def test_3_flipping_away_and_online_costs_the_others_about_one_diff_a_second(amake_user):
    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    with DaphneServer() as server:
        watcher = await socket_of(server, "alice", "presence")
        flipper = await socket_of(server, "bob", "presence")
        frames = []
        await ws_expect(watcher, "presence", "diff", buffer=frames, where=lambda p: "bob" in names_of(p["joins"]))
        frames.clear()
        for i in range(40):  # 2 s at 20 a second, as fast as the frame budget lets one socket
            await flipper.send(json.dumps({"topic": "presence", "event": "set",
                                           "payload": {"status": "away" if i % 2 == 0 else "online"}}))
            await asyncio.sleep(0.05)
        # Read the watcher until 1.5 s pass without a presence frame (a held change is applied within 1 s).
        while True:
            try:
                async with asyncio.timeout(1.5):
                    frames.append(json.loads(await watcher.recv()))
            except TimeoutError:
                break
        about_bob = [frame["payload"] for frame in frames
                     if frame.get("event") == "diff" and "bob" in names_of(frame["payload"]["updates"])]
        assert 1 <= len(about_bob) <= 4, about_bob  # without the throttle: 6 here (one per 250 ms window)
        assert about_bob[-1]["updates"][0]["status"] == "online"  # the last word stands
        await watcher.close()
        await flipper.close()


def names_of(entries):
    return [entry["username"] for entry in entries]


# --- 3. Slow readers cannot hold the server's memory


def stalled_socket_factory():
    """A TCP socket with a tiny receive buffer: once its owner stops reading, the kernel takes little,
    so what the server sends piles up on the server at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def stalled_socket_of(server, username, *topics):
    """A socket whose client joins `topics`, then reads nothing more (websockets stops reading once
    its queue holds one frame: the rest stays in the kernel, then on the server)."""
    client = await login(server, username)
    sock = stalled_socket_factory()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    ws, _ = await ws_connect(server, client, sock=sock, max_queue=1, max_size=None)
    for topic in topics:
        assert (await request(ws, topic, "join"))["ok"]
    return ws


async def fill_room(amake_user, amake_room, count=100, body_chars=4000):
    from chat.models import Message

    alice = await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_user("carol", password=PASSWORD)
    room = await amake_room("lounge")
    def store():
        with transaction.atomic():
            Message.objects.bulk_create([Message(room=room, author=alice, body=f"{i:04d}" + "x" * (body_chars - 4),
                                                 seq=seq) for i, seq in enumerate(room.take_seqs(count))])

    await database_sync_to_async(store)()


async def until(predicate, timeout_s, what):
    """Poll `predicate` (an async callable) until it is true; nothing can be awaited instead (server state)."""
    async with asyncio.timeout(timeout_s):
        while not await predicate():
            await asyncio.sleep(0.05)


async def test_3_a_socket_that_does_not_read_is_closed_and_forgotten_past_the_output_cap(amake_user, amake_room):
    from django.contrib.auth import get_user_model

    from hub.redis import get_async_redis, key

    await fill_room(amake_user, amake_room)
    alice_id = (await get_user_model().objects.aget(username="alice")).pk
    with DaphneServer(HUB_MAX_BUFFERED=256 * 1024) as server:
        bob = await socket_of(server, "bob", "room:lounge")
        stalled = await stalled_socket_of(server, "alice", "room:lounge")
        assert await get_async_redis().zcard(key("sockets", alice_id)) == 1
        # 30 replies of ~400 KB: 12 MB, far past the cap plus what the kernel buffers hold.
        for i in range(30):
            await stalled.send(json.dumps({"topic": "room:lounge", "event": "history", "payload": {"limit": 100},
                                           "ref": f"h{i}"}))

        async def forgotten():
            return await get_async_redis().zcard(key("sockets", alice_id)) == 0

        # The server dropped the connection and ran the consumer's cleanup (its Redis registration is gone).
        await until(forgotten, 15, "the stalled socket's registration to go")
        assert "closing slow consumer" in server.output()
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(10):
                while True:
                    await stalled.recv()
        # Everyone else is served as before.
        reply = await request(bob, "room:lounge", "history", {"limit": 100})
        assert len(reply["data"]["messages"]) == 100
        await bob.close()


async def test_3_typing_is_dropped_for_a_socket_that_is_behind_and_messages_are_not(amake_user, amake_room):
    await fill_room(amake_user, amake_room)
    # A cap of 40 MB: ~36 MB of replies leave the stalled socket behind (over half) but open.
    with DaphneServer(HUB_MAX_BUFFERED=40 * 1000 * 1000) as server:
        bob = await socket_of(server, "bob", "room:lounge")
        stalled = await stalled_socket_of(server, "alice", "room:lounge")
        for i in range(90):
            await stalled.send(json.dumps({"topic": "room:lounge", "event": "history", "payload": {"limit": 100},
                                           "ref": f"h{i}"}))
        # A socket handles its frames in order: once bob sees this message, every reply above was written.
        await stalled.send(json.dumps({"topic": "room:lounge", "event": "send", "payload": {"body": "sync"},
                                       "ref": "sync"}))
        await ws_expect(bob, "room:lounge", "message", timeout=30, where=lambda p: p["message"]["body"] == "sync")
        carol = await socket_of(server, "carol", "room:lounge")
        assert (await request(bob, "room:lounge", "typing", {"typing": True}))["ok"]
        assert (await request(bob, "room:lounge", "send", {"body": "after"}))["ok"]
        # A socket that keeps up gets both: the typing push was sent to the room.
        await ws_expect(carol, "room:lounge", "typing", timeout=5)
        await ws_expect(carol, "room:lounge", "message", timeout=5, where=lambda p: p["message"]["body"] == "after")
        # Now the stalled client reads everything it was sent: the message, every reply, no typing.
        events, replies = [], 0
        async with asyncio.timeout(30):
            while True:
                frame = json.loads(await stalled.recv())
                replies += frame["event"] == "reply"
                events.append(frame["event"])
                if frame["event"] == "message" and frame["payload"]["message"]["body"] == "after":
                    break
        assert replies == 91 and "typing" not in events
        for ws in (bob, carol, stalled):
            await ws.close()


# --- 4. Privileges follow the user, not the handshake


async def test_4_rights_taken_away_end_at_once_on_open_sockets(amake_user, amake_room):
    from django.contrib.auth.models import Group, Permission

    mod, alice = await amake_user("mod", password=PASSWORD, is_staff=True), await amake_user("alice", password=PASSWORD)
    await amake_room("lounge")

    def make_moderator():
        group = Group.objects.create(name="moderators")
        group.permissions.add(*Permission.objects.filter(
            codename__in=["add_announcement", "change_message", "delete_message"]))
        mod.groups.add(group)
        return group

    group = await database_sync_to_async(make_moderator)()
    with DaphneServer() as server:
        m = await socket_of(server, "mod", "room:lounge", "announcements")
        a = await socket_of(server, "alice", "room:lounge")
        message = (await request(a, "room:lounge", "send", {"body": "spam"}))["data"]["message"]
        edited = (await request(m, "room:lounge", "edit", {"id": message["id"], "body": "[removed]"}))["data"]
        assert edited["message"]["edited_by"]["username"] == "mod"  # a moderator's edit says so
        assert (await request(m, "announcements", "publish", {"title": "t", "body": "b"}))["ok"]
        await database_sync_to_async(group.permissions.clear)()  # taken away in the admin, say
        await asyncio.sleep(0)
        for attempt in range(20):  # the push makes the socket re-read the user: within 2 s
            refusal = await request(m, "announcements", "publish", {"title": "t2", "body": "b"})
            if not refusal["ok"]:
                break
            await asyncio.sleep(0.1)
        assert refusal["error"]["code"] == "forbidden"
        assert (await request(m, "room:lounge", "delete", {"id": message["id"]}))["error"]["code"] == "forbidden"
        # Deactivated: every open socket closes 4401 at once, not at the next periodic session check.
        mod_user = await database_sync_to_async(type(mod).objects.get)(username="mod")
        mod_user.is_active = False
        await database_sync_to_async(mod_user.save)()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(2):
                while True:
                    await m.recv()
        assert closed.value.rcvd.code == 4401
        await a.close()


async def test_4_a_password_change_closes_the_other_sessions_sockets(amake_user):
    alice = await amake_user("alice", password=PASSWORD)
    with DaphneServer() as server:
        other_session = await socket_of(server, "alice")
        await request(other_session, "hub", "heartbeat")  # answered once the socket's setup finished
        alice.set_password("a-new-Password-4711")
        await database_sync_to_async(alice.save)()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(2):
                while True:
                    json.loads(await other_session.recv())
        assert closed.value.rcvd.code == 4401

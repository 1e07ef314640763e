"""Large presence sets (above HUB_PRESENCE_LIST_MAX): a count, a first page, watched users only.

Through the in-process communicator (the queue path, Topic.shaped_push) and through a real
daphne (the direct path, hub.fanout with Topic.reshape), with the store's hysteresis.
"""

import asyncio

import pytest

from hub.testing.communicator import close_async_clients
from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_expect, ws_request
from presence import app_settings, store

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-Horse-battery-9"


def names(entries):
    return sorted(entry["username"] for entry in entries)


def ghost(i):
    return {"id": 50_000 + i, "username": f"ghost{i}", "display_name": f"Ghost {i}"}


async def settle(comm):
    """Read until no presence frame comes for more than a flush window: the arrivals so far are told."""
    for _ in range(20):
        if await comm.nothing(0.6, topic="presence"):
            comm.buffer.clear()
            return
        comm.buffer.clear()
    raise AssertionError("presence frames never stopped")


@pytest.fixture(autouse=True)
async def _close_clients():
    yield
    await close_async_clients()


async def test_the_store_tells_a_set_large_above_the_max_until_it_shrinks_to_four_fifths():
    for i in range(8):
        await store.track("s", f"c{i}", user=ghost(i), status="online", ttl_s=60)
    assert await store.size("s", list_max=5) == (8, True)
    users, count, large = await store.list_page("s", list_max=5, page=2)
    assert (len(users), count, large) == (2, 8, True)
    for i in range(3):
        await store.forget(f"c{i}")
    assert await store.size("s", list_max=5) == (5, True)  # 5 > 5 * 0.8: still large
    await store.forget("c3")
    assert await store.size("s", list_max=5) == (4, False)
    users, count, large = await store.list_page("s", list_max=5, page=2)
    assert (names(users), count, large) == (["ghost4", "ghost5", "ghost6", "ghost7"], 4, False)
    await store.track("s", "c0", user=ghost(0), status="online", ttl_s=60)
    assert await store.size("s", list_max=5) == (5, False)  # and small it stays until it passes 5 again


async def test_a_small_site_set_lists_everyone_with_the_count(amake_user, connect, settings):
    settings.HUB_PRESENCE_LIST_MAX = 2
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await (await connect(bob)).ok("hub", "heartbeat")
    data = await (await connect(alice)).ok("presence", "join")
    assert (names(data["users"]), data["count"], data["more"]) == (["alice", "bob"], 2, False)


async def test_a_large_site_set_answers_a_count_and_a_first_page(amake_user, connect, settings, monkeypatch):
    settings.HUB_PRESENCE_LIST_MAX = 2
    monkeypatch.setattr(app_settings._app_settings, "PAGE_SIZE", 2)
    for i in range(4):
        await store.track("presence", f"ghost-{i}", user=ghost(i), status="online", ttl_s=600)
    data = await (await connect(await amake_user("alice"))).ok("presence", "join")
    assert data["count"] == 5 and data["more"] is True and len(data["users"]) == 2


async def test_large_set_diffs_carry_the_count_and_only_the_watched_users(amake_user, connect, settings):
    settings.HUB_PRESENCE_LIST_MAX = 2
    alice, bob, carol, dave = [await amake_user(name) for name in ("alice", "bob", "carol", "dave")]
    bob_socket, carol_socket = await connect(bob), await connect(carol)
    await carol_socket.ok("hub", "heartbeat")  # tracked by now
    watcher, other = await connect(alice), await connect(alice)
    assert (await watcher.ok("presence", "join"))["count"] == 3
    await other.ok("presence", "join")
    await settle(watcher)
    await settle(other)
    watched = await watcher.ok("presence", "watch", {"users": ["BOB", "nobody"]})
    assert [(u["username"], u["status"]) for u in watched["users"]] == [("bob", "online")]

    await connect(dave)  # not watched: the count only, to both
    diff = await watcher.expect("presence", "diff", where=lambda p: p["count"] == 4)
    assert diff == {"joins": [], "leaves": [], "updates": [], "count": 4, "more": True}
    assert (await other.expect("presence", "diff", where=lambda p: p["count"] == 4))["joins"] == []

    await bob_socket.disconnect()  # watched by one socket only
    diff = await watcher.expect("presence", "diff", where=lambda p: p["count"] == 3)
    assert names(diff["leaves"]) == ["bob"] and diff["leaves"][0]["last_seen"]
    assert (await other.expect("presence", "diff", where=lambda p: p["count"] == 3))["leaves"] == []

    await carol_socket.ok("hub", "heartbeat", {"status": "away"})  # unwatched and the count stays: nothing
    assert await watcher.nothing(0.6, topic="presence")  # the away is flushed, and not sent here
    await watcher.ok("presence", "watch", {"users": ["carol"]})
    await carol_socket.ok("hub", "heartbeat", {"status": "online"})
    diff = await watcher.expect("presence", "diff", timeout=3, where=lambda p: p["updates"])
    assert [(u["username"], u["status"]) for u in diff["updates"]] == [("carol", "online")]
    assert await other.nothing(0.6, topic="presence")


async def test_a_set_shrinking_back_is_listed_in_full_again(amake_user, connect, settings):
    settings.HUB_PRESENCE_LIST_MAX = 3  # large above 3, small again at 2
    users = [await amake_user(name) for name in ("alice", "bob", "carol", "dave")]
    sockets = [await connect(user) for user in users]
    await sockets[3].ok("hub", "heartbeat")
    assert (await sockets[0].ok("presence", "join"))["more"] is True
    await sockets[3].disconnect()
    diff = await sockets[0].expect("presence", "diff", where=lambda p: p["count"] == 3)
    assert diff["more"] is True and diff["leaves"] == []  # 3: not yet small
    await sockets[2].disconnect()
    diff = await sockets[0].expect("presence", "diff", where=lambda p: p["count"] == 2)
    assert diff["more"] is False and names(diff["leaves"]) == ["carol"]  # small: every change is named again
    data = await sockets[0].ok("presence", "join")
    assert (names(data["users"]), data["more"]) == (["alice", "bob"], False)


async def test_a_large_room_is_told_as_a_count(amake_user, connect, settings, make_room):
    from channels.db import database_sync_to_async

    settings.HUB_PRESENCE_LIST_MAX = 2
    await database_sync_to_async(make_room)("big")
    users = [await amake_user(name) for name in ("alice", "bob", "carol", "dave")]
    sockets = [await connect(user) for user in users]
    for sock in sockets[1:3]:
        await sock.ok("room:big", "join")
    data = await sockets[0].ok("room:big", "join")
    assert (data["present"], data["present_count"], data["present_more"]) == ([], 3, True)
    await sockets[3].ok("room:big", "join")
    diff = await sockets[0].expect("room:big", "presence", where=lambda p: p["count"] == 4)
    assert diff == {"joins": [], "leaves": [], "updates": [], "count": 4, "more": True}


@pytest.mark.e2e
async def test_through_daphne_each_socket_gets_the_count_frame_or_its_watched_users(amake_user):
    """The direct path (hub.fanout): the shared count-only frame and a watcher's own frame."""
    for name in ("alice", "bob", "carol"):
        await amake_user(name, password=PASSWORD)
    for i in range(3):
        await store.track("presence", f"ghost-{i}", user=ghost(i), status="online", ttl_s=600)
    await close_async_clients()
    with DaphneServer(HUB_PRESENCE_LIST_MAX=2) as server:
        alice = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
        carol = await asyncio.to_thread(Browserless(server.url).login, "carol", PASSWORD)
        watcher, _ = await ws_connect(server, alice)
        other, _ = await ws_connect(server, carol)
        seen_w, seen_o = [], []
        assert (await ws_request(watcher, "presence", "join", buffer=seen_w))["data"]["more"] is True
        await ws_request(other, "presence", "join", buffer=seen_o)
        reply = await ws_request(watcher, "presence", "watch", {"users": ["bob"]}, buffer=seen_w)
        assert reply["data"] == {"users": [{"id": reply["data"]["users"][0]["id"], "username": "bob",
                                            "display_name": "bob", "status": "offline", "last_seen": None}]}
        bob = await asyncio.to_thread(Browserless(server.url).login, "bob", PASSWORD)
        bob_socket, _ = await ws_connect(server, bob)
        diff = await ws_expect(watcher, "presence", "diff", buffer=seen_w, where=lambda p: p["joins"])
        assert names(diff["joins"]) == ["bob"] and diff["more"] is True
        count = diff["count"]
        diff = await ws_expect(other, "presence", "diff", buffer=seen_o, where=lambda p: p["count"] == count)
        assert diff == {"joins": [], "leaves": [], "updates": [], "count": count, "more": True}
        for ws in (watcher, other, bob_socket):
            await ws.close()

"""The `presence` topic through the consumer: join, diff, set, query, multi-tab, clean close."""

import pytest
from channels.db import database_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


def names(entries):
    return sorted(entry["username"] for entry in entries)


async def test_join_lists_everyone_online_including_me(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await (await connect(bob)).ok("hub", "heartbeat")  # answered once its connect (and tracking) finished
    comm = await connect(alice)
    data = await comm.ok("presence", "join")
    assert names(data["users"]) == ["alice", "bob"]
    entry = next(u for u in data["users"] if u["username"] == "bob")
    assert entry == {"id": bob.pk, "username": "bob", "display_name": "bob", "status": "online", "last_seen": None}


async def test_arrival_and_clean_close_are_pushed_as_diffs(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    tab1 = await connect(bob)
    diff = await watcher.expect("presence", "diff", where=lambda p: "bob" in names(p["joins"]))
    assert {u["username"]: u["status"] for u in diff["joins"]}["bob"] == "online"
    watcher.buffer.clear()  # alice's own arrival may have come in an earlier window
    tab2 = await connect(bob)  # a second tab is not a join
    await tab2.ok("hub", "heartbeat")  # its connect (and tracking) has finished
    await tab1.disconnect()  # closing one of two tabs is not a leave
    assert await watcher.nothing(0.6, topic="presence"), watcher.buffer
    await tab2.disconnect()
    diff = await watcher.expect("presence", "diff", timeout=2, where=lambda p: p["leaves"])
    assert names(diff["leaves"]) == ["bob"]
    assert diff["leaves"][0]["status"] == "offline" and diff["leaves"][0]["last_seen"].endswith("Z")


async def test_a_leave_is_pushed_even_when_last_seen_cannot_be_written(amake_user, connect, monkeypatch):
    """Redis already forgot the socket: a database error on last_seen must not leave a ghost."""
    from django.db import OperationalError

    from presence import services

    def database_down(**kwargs):
        raise OperationalError("database is down")

    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    tab = await connect(bob)
    await watcher.expect("presence", "diff", where=lambda p: "bob" in names(p["joins"]))
    monkeypatch.setattr(services, "last_seen_record", database_down)
    await tab.disconnect()
    diff = await watcher.expect("presence", "diff", timeout=2, where=lambda p: p["leaves"])
    assert names(diff["leaves"]) == ["bob"]


async def test_set_and_heartbeat_status_make_away_then_online(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    bobs = await connect(bob)
    await watcher.expect("presence", "diff", where=lambda p: p["joins"])
    await bobs.ok("presence", "join")
    assert await bobs.ok("presence", "set", {"status": "away"}) == {"status": "away"}
    diff = await watcher.expect("presence", "diff", where=lambda p: p["updates"])
    assert diff["updates"][0]["username"] == "bob" and diff["updates"][0]["status"] == "away"
    await bobs.ok("hub", "heartbeat", {"status": "online"})
    diff = await watcher.expect("presence", "diff", where=lambda p: p["updates"])
    assert diff["updates"][0]["status"] == "online"
    assert (await bobs.error("presence", "set", {"status": "asleep"}))["code"] == "bad_request"


async def test_query_answers_status_and_last_seen(amake_user, connect):
    alice, bob, carol = await amake_user("alice"), await amake_user("bob"), await amake_user("carol")
    comm = await connect(alice)
    await comm.ok("presence", "join")
    bobs = await connect(bob)
    await comm.expect("presence", "diff", where=lambda p: "bob" in names(p["joins"]))
    await bobs.disconnect()
    await comm.expect("presence", "diff", timeout=2, where=lambda p: p["leaves"])
    data = await comm.ok("presence", "query", {"users": ["alice", "bob", "carol", "nobody"]})
    by_name = {u["username"]: u for u in data["users"]}
    assert set(by_name) == {"alice", "bob", "carol"}
    assert by_name["alice"]["status"] == "online" and by_name["alice"]["last_seen"] is None
    assert by_name["bob"]["status"] == "offline" and by_name["bob"]["last_seen"].endswith("Z")
    assert by_name["carol"]["last_seen"] is None
    # last_seen survives a Redis restart: the database has it too.
    from hub.redis import get_async_redis

    await get_async_redis().flushdb()
    data = await comm.ok("presence", "query", {"users": ["bob"]})
    assert data["users"][0]["last_seen"] and data["users"][0]["status"] == "offline"


async def test_query_validates(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    await comm.ok("presence", "join")
    assert (await comm.error("presence", "query", {"users": ["x"] * 201}))["code"] == "bad_request"
    assert (await comm.error("presence", "query", {"users": "alice"}))["code"] == "bad_request"
    assert (await comm.error("presence", "query", {}))["code"] == "bad_request"


async def test_many_arrivals_in_one_window_are_one_diff(amake_user, connect):
    watcher = await connect(await amake_user("watcher"))
    await watcher.ok("presence", "join")
    users = [await amake_user(f"u{i}") for i in range(8)]
    for user in users:
        await connect(user)
    frames, seen = 0, set()
    while len(seen - {"watcher"}) < 8:
        seen.update(names((await watcher.expect("presence", "diff"))["joins"]))
        frames += 1
    assert seen - {"watcher"} == {u.username for u in users}
    assert frames <= 3, "arrivals must be coalesced, not one frame each"


async def test_dead_connections_are_swept_by_the_sweeper(amake_user, connect):
    from hub.redis import get_async_redis
    from presence import store

    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    bobs = await connect(bob)
    await watcher.expect("presence", "diff", where=lambda p: p["joins"])
    # Bob's server "dies": his entry's expiry passes without a close, and this
    # process's background sweeper (every 2 s) finds it.
    await get_async_redis().zadd(f"{store._prefix()}:exp", {bobs.hello["payload"]["conn"]: 1})
    diff = await watcher.expect("presence", "diff", timeout=5, where=lambda p: p["leaves"])
    assert names(diff["leaves"]) == ["bob"] and diff["leaves"][0]["last_seen"].endswith("Z")
    seen = await database_sync_to_async(lambda: type(bob).objects.get(pk=bob.pk).last_seen.at)()
    assert seen is not None


async def test_came_and_went_within_one_window_is_a_leave(amake_user, connect):
    """A socket that joined mid-window has the visitor in its list; it must hear them go."""
    alice, bob = await amake_user("alice"), await amake_user("bob")
    early = await connect(alice)
    await early.ok("presence", "join")
    bobs = await connect(bob)
    await bobs.ok("hub", "heartbeat")  # bob is tracked
    late = await connect(alice)
    assert "bob" in names((await late.ok("presence", "join"))["users"])
    await bobs.disconnect()
    for comm in (early, late):
        diff = await comm.expect("presence", "diff", timeout=2, where=lambda p: p["leaves"])
        assert names(diff["leaves"]) == ["bob"]


async def test_presence_comes_back_after_redis_loses_it(amake_user, connect):
    """A Redis restart empties presence; a socket's next heartbeat closes it 4500 and its client comes back."""
    import json

    from hub.protocol import CLOSE_RESUME
    from hub.redis import get_async_redis

    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    bobs = await connect(bob)
    await watcher.expect("presence", "diff", where=lambda p: p["joins"])
    await get_async_redis().flushdb()
    assert names((await watcher.ok("presence", "join"))["users"]) == []
    await bobs.send_to(text_data=json.dumps({"topic": "hub", "event": "heartbeat", "payload": {}, "ref": "h"}))
    assert await bobs.expect_close() == CLOSE_RESUME  # the browser client reconnects and resumes with `since`
    await connect(bob)
    diff = await watcher.expect("presence", "diff", where=lambda p: p["joins"])
    assert names(diff["joins"]) == ["bob"]
    assert names((await watcher.ok("presence", "join"))["users"]) == ["bob"]


async def test_a_socket_flipping_its_status_costs_the_others_about_one_diff_a_second(amake_user, connect):
    import asyncio

    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    flipper = await connect(bob)
    await watcher.expect("presence", "diff", where=lambda p: "bob" in names(p["joins"]))
    await flipper.ok("presence", "join")
    watcher.buffer.clear()
    for i in range(21):  # 1.2 s of away, online, away, ... ending on away
        await flipper.ok("presence", "set", {"status": "away" if i % 2 == 0 else "online"})
        await asyncio.sleep(0.06)  # the client's own pace: the point is changes spread over windows
    seen = []
    for _ in range(10):  # until 1.2 s pass without a diff: a held change has been applied by then
        quiet = await watcher.nothing(1.2, topic="presence")
        seen += [frame["payload"] for frame in watcher.buffer if frame.get("topic") == "presence"]
        watcher.buffer.clear()
        if quiet:
            break
    about_bob = [diff for diff in seen if "bob" in names(diff["updates"])]
    # One change a second reaches Redis: away at once, then what was latest after each second.
    assert 1 <= len(about_bob) <= 3, about_bob
    assert about_bob[-1]["updates"][0]["status"] == "away"
    query = await watcher.ok("presence", "query", {"users": ["bob"]})
    assert query["users"][0]["status"] == "away"  # the last word stands


async def test_away_and_back_within_one_window_shows_the_others_nothing(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    tab1 = await connect(bob)
    await watcher.expect("presence", "diff", where=lambda p: "bob" in names(p["joins"]))
    tab2 = await connect(bob)
    await tab2.ok("presence", "join")
    await tab2.ok("presence", "set", {"status": "away"})  # bob is still online through tab1
    assert await watcher.nothing(0.4, topic="presence")
    await tab1.ok("presence", "join")
    await tab1.ok("presence", "set", {"status": "away"})  # now bob is away ...
    tab3 = await connect(bob)  # ... and a new tab makes him online again, within the same window
    await tab3.ok("hub", "heartbeat")
    assert await watcher.nothing(0.6, topic="presence"), watcher.buffer

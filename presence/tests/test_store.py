"""The Redis presence store on real Redis: multi-tab, the away rule, expiry, the sweep lock."""

import time

import pytest

from hub.redis import get_async_redis, key
from presence import services, store
from hub.testing.communicator import close_async_clients

ALICE = {"id": 1, "username": "alice", "display_name": "alice"}
BOB = {"id": 2, "username": "bob", "display_name": "bob"}


@pytest.fixture(autouse=True)
async def _close_clients():
    yield
    await close_async_clients()


def kinds(changes):
    return [(c.set_name, c.user_id, c.kind, c.status) for c in changes]


async def test_second_tab_is_not_a_join_and_closing_one_of_two_is_not_a_leave():
    assert kinds(await store.track("s", "c1", user=ALICE, status="online", ttl_s=60)) == [("s", 1, "join", "online")]
    assert kinds(await store.track("s", "c2", user=ALICE, status="online", ttl_s=60)) == []
    assert kinds(await store.forget("c1")) == []
    assert await store.list_set("s") == [{**ALICE, "status": "online", "last_seen": None}]
    assert kinds(await store.forget("c2")) == [("s", 1, "leave", "offline")]
    assert await store.list_set("s") == []


async def test_away_only_when_every_connection_is_away():
    await store.track("s", "c1", user=ALICE, status="online", ttl_s=60)
    await store.track("s", "c2", user=ALICE, status="online", ttl_s=60)
    assert kinds(await store.set_status("c1", "away")) == []
    assert kinds(await store.set_status("c2", "away")) == [("s", 1, "update", "away")]
    assert (await store.statuses("s", [1, 2])) == {1: "away", 2: "offline"}
    assert kinds(await store.set_status("c1", "online")) == [("s", 1, "update", "online")]


async def test_a_connection_in_two_sets_leaves_both_on_forget():
    await store.track("presence", "c1", user=ALICE, status="online", ttl_s=60)
    await store.track("room:a", "c1", user=ALICE, status="online", ttl_s=60, meta={"typing": False})
    assert [u["metas"] for u in await store.list_set("room:a")] == [[{"typing": False}]]
    assert sorted(kinds(await store.forget("c1"))) == [("presence", 1, "leave", "offline"),
                                                        ("room:a", 1, "leave", "offline")]


async def test_expired_connections_are_swept_and_live_ones_kept():
    await store.track("s", "dead", user=ALICE, status="online", ttl_s=1)
    await store.track("s", "live", user=BOB, status="online", ttl_s=60)
    assert await store.sweep() == (0, [])  # by Redis's clock nothing has expired yet
    expired, changes = await store.sweep(now=time.time() + 2)
    assert expired == 1 and kinds(changes) == [("s", 1, "leave", "offline")]
    assert changes[0].user == ALICE
    assert [u["id"] for u in await store.list_set("s")] == [2]
    assert await store.touch("dead", 60) is False  # gone: the caller re-tracks it


async def test_sweep_works_in_bounded_batches():
    for i in range(5):
        await store.track("s", f"c{i}", user={**ALICE, "id": 10 + i}, status="online", ttl_s=1)
    later = time.time() + 2
    expired, changes = await store.sweep(now=later, batch=3)
    assert expired == 3 and len(changes) == 3
    expired, changes = await store.sweep(now=later, batch=3)
    assert expired == 2 and len(changes) == 2
    assert await store.list_set("s") == []


async def test_touch_keeps_a_connection_alive():
    await store.track("s", "c1", user=ALICE, status="online", ttl_s=1)
    assert await store.touch("c1", 60) is True
    assert (await store.sweep(now=time.time() + 2))[1] == []


async def test_only_one_process_holds_the_sweep_lock():
    assert await store.acquire_sweep_lock("process-a", 500)
    assert not await store.acquire_sweep_lock("process-b", 500)


async def test_sweep_once_sweeps_only_under_the_lock():
    await store.track("s", "dead", user=ALICE, status="online", ttl_s=60)
    assert await services.sweep_once(lock_ms=5000, token="other-process") == []  # nothing has expired
    await get_async_redis().zadd(f"{store._prefix()}:exp", {"dead": 1})  # its server died long ago
    # The lock is now held by "other-process" for 5 s: this process must not sweep.
    assert await services.sweep_once(lock_ms=5000, token="this-process") is None
    await get_async_redis().delete(f"{store._prefix()}:sweep-lock")
    swept = await services.sweep_once(lock_ms=5000, token="this-process")
    assert [(c.user_id, c.kind) for c in swept] == [(1, "leave")]


async def test_meta_is_listed_per_connection_and_replaced_on_retrack():
    await store.track("room:a", "c1", user=ALICE, status="online", ttl_s=60, meta={"device": "phone"})
    await store.track("room:a", "c2", user=ALICE, status="away", ttl_s=60)
    assert await store.list_set("room:a") == [
        {**ALICE, "status": "online", "last_seen": None, "metas": [{"device": "phone"}]}]
    assert kinds(await store.track("room:a", "c1", user=ALICE, status="online", ttl_s=60,
                                   meta={"device": "tablet"})) == []
    assert (await store.states("room:a", [1, 2]))[1] == (ALICE, "online", [{"device": "tablet"}])


async def test_a_diff_reports_the_state_at_flush_time_not_the_buffered_change():
    """A leave buffered on one server, flushed after the user came back elsewhere, must not say offline."""
    await store.track(services.SITE_SET, "c1", user=ALICE, status="away", ttl_s=60)
    await store.track(services.SITE_SET, "c2", user=BOB, status="online", ttl_s=60)
    await store.forget("c2")
    diff = await services.diff_for(services.SITE_SET, {1: "leave", 2: "join"}, {})
    assert [(u["username"], u["status"]) for u in diff["updates"]] == [("alice", "away")]
    assert [(u["id"], u["status"]) for u in diff["leaves"]] == [(2, "offline")]
    assert diff["joins"] == []


async def test_listing_a_large_set_returns_everyone_once():
    for i in range(1_100):  # more than one HMGET batch inside the script
        user = {"id": 100 + i, "username": f"u{i}", "display_name": f"U {i}"}
        await store.track("presence", f"c{i}", user=user, status="away" if i % 2 else "online", ttl_s=60)
    listed = await store.list_set("presence")
    assert sorted(u["id"] for u in listed) == list(range(100, 1_200))
    assert {u["status"] for u in listed if u["id"] % 2} == {"away"}
    assert all(set(u) == {"id", "username", "display_name", "status", "last_seen"} for u in listed)


async def test_purging_a_user_forgets_them_and_keeps_them_out_for_a_while():
    """A deleted user: one leave per set, no USER record or last seen left, and tracking them again is refused."""
    await store.track("presence", "a1", user=ALICE, status="online", ttl_s=60)
    await store.track("room:x", "a1", user=ALICE, status="online", ttl_s=60, meta={"tool": "pen"})
    await store.track("presence", "a2", user=ALICE, status="away", ttl_s=60)
    await store.track("presence", "b1", user=BOB, status="online", ttl_s=60)
    await store.remember_last_seen([1, 2], "2030-01-01T00:00:00Z")
    changes = store.purge_user(1, block_s=60)
    assert sorted(kinds(changes)) == [("presence", 1, "leave", "offline"), ("room:x", 1, "leave", "offline")]
    assert all(c.user == ALICE for c in changes)
    redis = get_async_redis()
    assert await redis.hget(key("{p}", "user"), 1) is None and await redis.hget(key("{p}", "lastseen"), 1) is None
    assert await redis.hgetall(key("{p}", "s", "room:x", "meta")) == {}
    assert await redis.hkeys(key("{p}", "cuid")) == [b"b1"]
    assert [u["id"] for u in await store.list_set("presence")] == [2]
    # A socket of theirs still open (its close on the way) cannot bring them back.
    assert await store.track("presence", "a3", user=ALICE, status="online", ttl_s=60) == []
    await store.remember_last_seen([1, 2], "2030-01-02T00:00:00Z")
    assert await store.last_seen([1, 2]) == {2: "2030-01-02T00:00:00Z"}
    assert await redis.hget(key("{p}", "user"), 1) is None and await store.list_set("room:x") == []
    assert 0 < await redis.ttl(key("{p}", "gone", 1)) <= 60
    assert store.purge_user(1, block_s=60) == []  # again: nothing more to do

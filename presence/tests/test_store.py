"""The Redis presence store on real Redis: multi-tab, the away rule, expiry, the sweep lock."""

import time

import pytest

from presence import store
from tests.communicator import close_async_clients

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
    assert [(u["username"], s) for u, s, _ in await store.list_set("s")] == [("alice", "online")]
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
    assert [m for _, _, m in await store.list_set("room:a")] == [[{"typing": False}]]
    assert sorted(kinds(await store.forget("c1"))) == [("presence", 1, "leave", "offline"),
                                                        ("room:a", 1, "leave", "offline")]


async def test_expired_connections_are_swept_and_live_ones_kept():
    await store.track("s", "dead", user=ALICE, status="online", ttl_s=1)
    await store.track("s", "live", user=BOB, status="online", ttl_s=60)
    assert kinds(await store.sweep(now=time.time())) == []
    changes = await store.sweep(now=time.time() + 2)
    assert kinds(changes) == [("s", 1, "leave", "offline")]
    assert changes[0].user == ALICE
    assert [u["id"] for u, _, _ in await store.list_set("s")] == [2]


async def test_touch_keeps_a_connection_alive():
    await store.track("s", "c1", user=ALICE, status="online", ttl_s=1)
    await store.touch("c1", 60)
    assert kinds(await store.sweep(now=time.time() + 2)) == []


async def test_only_one_process_holds_the_sweep_lock():
    assert await store.acquire_sweep_lock("process-a", 500)
    assert not await store.acquire_sweep_lock("process-b", 500)

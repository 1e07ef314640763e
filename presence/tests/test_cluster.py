"""The presence store on Redis Cluster (issue 13 §2): three primaries from the embedded binary, redis-py's cluster
client, and every script of presence/store.py run once, with its keys all in the slot of the "{p}" hash tag."""

import time

import pytest

from hub.testing.cluster import ClusterSetup
from presence import store

ALICE = {"id": 1, "username": "alice", "display_name": "alice"}
BOB = {"id": 2, "username": "bob", "display_name": "bob"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        setup = ClusterSetup(tmp_path_factory.mktemp("cluster"))
    except RuntimeError as error:  # no server binary on this platform (hub/embedded_redis.py says why)
        pytest.skip(f"cannot start a Redis Cluster here: {error}")
    with setup:
        yield setup


@pytest.fixture
async def on_cluster(cluster, monkeypatch):
    """The presence store's clients, async and sync, pointed at the cluster; the cluster emptied first."""
    from redis.asyncio.cluster import ClusterNode, RedisCluster
    from redis.cluster import RedisCluster as SyncRedisCluster

    client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port) for port in cluster.ports])
    sync_client = SyncRedisCluster(startup_nodes=cluster.startup_nodes())
    sync_client.flushall(target_nodes=SyncRedisCluster.PRIMARIES)
    monkeypatch.setattr(store, "get_async_redis", lambda: client)
    monkeypatch.setattr(store, "get_sync_redis", lambda: sync_client)
    yield client, sync_client
    await client.aclose()
    sync_client.close()


def kinds(changes):
    return [(c.set_name, c.user_id, c.kind, c.status) for c in changes]


async def test_every_presence_script_runs_on_a_cluster_with_its_keys_in_one_slot(on_cluster):
    client, sync_client = on_cluster
    assert kinds(await store.track("presence", "a1", user=ALICE, status="online", ttl_s=60)) == [
        ("presence", 1, "join", "online")]
    await store.track("room:x", "a1", user=ALICE, status="online", ttl_s=60, meta={"tab": 1})
    await store.track("presence", "b1", user=BOB, status="online", ttl_s=60)
    await store.track("room:x", "b1", user=BOB, status="online", ttl_s=60)
    assert kinds(await store.set_status("a1", "away")) == [("presence", 1, "update", "away"),
                                                           ("room:x", 1, "update", "away")]
    assert await store.touch("a1", 60)
    assert [u["username"] for u in await store.list_set("presence")] == ["alice", "bob"]
    assert (await store.size("presence", list_max=1)) == (2, True)  # above list_max: large
    users, count, large = await store.list_page("presence", list_max=1, page=10)
    assert (count, large) == (2, True) and len(users) == 2
    assert await store.statuses("room:x", [1, 2, 3]) == {1: "away", 2: "online", 3: "offline"}
    assert kinds(await store.untrack("room:x", "b1")) == [("room:x", 2, "leave", "offline")]
    await store.remember_last_seen([2], "2026-12-06T00:00:00Z")
    assert await store.last_seen([2]) == {2: "2026-12-06T00:00:00Z"}
    assert await store.acquire_sweep_lock("me", 5000) and not await store.acquire_sweep_lock("other", 5000)
    assert kinds(await store.forget("b1")) == [("presence", 2, "leave", "offline")]
    assert kinds(store.purge_user(2, block_s=60)) == []  # bob is gone already; his records go
    swept, changes = await store.sweep(now=time.time() + 3600)  # every connection has expired by then
    assert swept == 1 and sorted(kinds(changes)) == [("presence", 1, "leave", "offline"),
                                                     ("room:x", 1, "leave", "offline")]
    # Everything the scripts wrote lives in the one slot of the hash tag, on one node.
    slot = sync_client.keyslot(f"{store._prefix()}:exp")
    names = [name for node in sync_client.get_primaries() for name in sync_client.scan_iter(target_nodes=node)]
    assert names and {sync_client.keyslot(name) for name in names} == {slot}


async def test_the_one_key_scripts_run_on_a_cluster_too(on_cluster, monkeypatch):
    """Socket counts, rate limits and the budget: each script touches only its KEYS[1]."""
    from hub import budget, connections, rates

    client, _ = on_cluster
    for module in (connections, rates, budget):
        monkeypatch.setattr(module, "get_async_redis", lambda: client)
    assert await connections.register(7, "c1", 60) == 1 and await connections.register(7, "c2", 60) == 2
    assert await connections.refresh(7, "c1", 60) and not await connections.refresh(7, "nope", 60)
    assert await rates.hit("chat-send", 7, "2/10s") == 0 and await rates.hit("chat-send", 7, "2/10s") == 0
    assert await rates.hit("chat-send", 7, "2/10s") > 0  # the third in the window waits
    capacity, _ = rates.parse_rate(budget.app_settings.USER_BUDGET)
    await budget.spend(7, 5)
    assert float(await client.hget(budget.bucket_key(7), "tokens")) <= capacity - 4  # refilled a little since

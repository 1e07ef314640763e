"""The channel layer over several Redis servers (issue 13 §2, HUB_LAYER_REDIS_URLS): each group on the shard
channels-redis hashes it to, hub.push's pipelined paths one round trip per shard (no fallback to one group_send
per group), and two daphne processes on two shards delivering chat and presence to each other."""

import asyncio

import pytest
from django.conf import settings
from django.test import override_settings

from hub import push
from hub.redis import reset_clients
from hub.testing.redis_servers import PlainServers, command
from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_expect, ws_request

PASSWORD = "correct-Horse-battery-9"


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    try:
        servers = PlainServers(tmp_path_factory.mktemp("shards"), count=2)
    except RuntimeError as error:
        pytest.skip(f"cannot start Redis servers here: {error}")
    with servers:
        yield servers


@pytest.fixture
def sharded_settings(shards):
    layers = {"default": {**settings.CHANNEL_LAYERS["default"], "CONFIG": {
        **settings.CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [{"address": url} for url in shards.urls]}}}
    with override_settings(HUB_LAYER_REDIS_URLS=shards.urls, CHANNEL_LAYERS=layers):
        reset_clients()
        yield shards
    reset_clients()


def published_counts(shards):
    return [int(command(port, "INFO", "commandstats").get("cmdstat_publish", {}).get("calls", 0))
            for port in shards.ports]


def test_sync_pushes_go_one_round_trip_per_shard_each_group_to_its_own(sharded_settings, monkeypatch):
    from channels.layers import get_channel_layer

    async def no_fallback(*args):
        raise AssertionError("fell back to one group_send per group")

    monkeypatch.setattr(get_channel_layer(), "group_send", no_fallback)
    groups = [f"test.shard.{n}" for n in range(40)]
    expected = [0, 0]
    for group in groups:
        expected[push._shard(push._pubsub_channel(group))] += 1
    assert all(expected)  # 40 groups land on both shards
    before = published_counts(sharded_settings)
    pipelines = []
    real_pipeline = push.get_sync_layer_redis(0).__class__.pipeline
    monkeypatch.setattr(push.get_sync_layer_redis(0).__class__, "pipeline",
                        lambda self, *a, **k: pipelines.append(self) or real_pipeline(self, *a, **k))
    push.publish(groups, {"type": "hub.push", "topic": "t", "event": "e", "payload": {}})
    after = published_counts(sharded_settings)
    assert [b - a for a, b in zip(before, after)] == expected
    assert len(pipelines) == 2  # one round trip per shard


async def test_async_pushes_go_one_round_trip_per_shard(sharded_settings):
    groups = [f"test.ashard.{n}" for n in range(40)]
    expected = [0, 0]
    for group in groups:
        expected[push._shard(push._pubsub_channel(group))] += 1
    before = await asyncio.to_thread(published_counts, sharded_settings)
    await push.apublish(groups, {"type": "hub.push", "topic": "t", "event": "e", "payload": {}})
    after = await asyncio.to_thread(published_counts, sharded_settings)
    assert [b - a for a, b in zip(before, after)] == expected
    for client in push.get_async_layer_redis(0), push.get_async_layer_redis(1):
        await client.aclose()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_two_processes_on_two_shards_deliver_to_each_other(shards, amake_user, amake_room):
    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_room("lounge")
    env = {"HUB_LAYER_REDIS_URLS": ",".join(shards.urls)}
    with DaphneServer(**env) as first, DaphneServer(**env) as second:
        alice = await asyncio.to_thread(Browserless(first.url).login, "alice", PASSWORD)
        bob = await asyncio.to_thread(Browserless(second.url).login, "bob", PASSWORD)
        alice_ws, _ = await ws_connect(first, alice)
        bob_ws, _ = await ws_connect(second, bob)
        assert (await ws_request(bob_ws, "presence", "join"))["ok"]
        assert (await ws_request(bob_ws, "room:lounge", "join"))["ok"]
        assert (await ws_request(alice_ws, "room:lounge", "join"))["ok"]
        assert (await ws_request(alice_ws, "presence", "join"))["ok"]
        # presence's diff (published from async code) and the message (after its commit, from sync code)
        await ws_expect(bob_ws, "presence", "diff", timeout=10,
                        where=lambda diff: any(u["username"] == "alice" for u in diff["joins"]))
        assert (await ws_request(alice_ws, "room:lounge", "send", {"body": "across shards"}))["ok"]
        message = await ws_expect(bob_ws, "room:lounge", "message", timeout=10)
        assert message["message"]["body"] == "across shards"
        # Both shards carry subscriptions: the groups were spread over them.
        subscribed = [len(command(port, "PUBSUB", "CHANNELS", "*")) for port in shards.ports]
        assert all(subscribed), subscribed
        await alice_ws.close()
        await bob_ws.close()

"""hub.redis_topology: REDIS_URL or Redis Sentinel, for every Redis user in Hub (issue 13 §1).

The settings rules run in plain Python and in a fresh Django process; the Sentinel tests run a
real primary, replica and three Sentinels (hub.testing.sentinel) and kill the primary."""

import asyncio
import time

import pytest

from hub.embedded_redis import find_server_binary
from hub.redis_topology import RedisConfigError, RedisTopology, parse_sentinels
from hub.tests.test_settings import load_settings


def test_sentinels_parse_from_host_port_lists_and_bad_entries_are_named():
    assert parse_sentinels("") == []
    assert parse_sentinels("a:26379, 10.0.0.2:26380,[::1]:26381") == [("a", 26379), ("10.0.0.2", 26380),
                                                                        ("::1", 26381)]
    for bad in ("a", "a:", ":1", "a:port", "a:0", "a:70000"):
        with pytest.raises(RedisConfigError, match="REDIS_SENTINELS"):
            parse_sentinels(f"ok:1,{bad}")


def test_with_sentinels_the_url_gives_only_credentials_and_database():
    topology = RedisTopology("redis://user:p%40ss@ignored-host:1234/3", (("s1", 26379),), "main")
    assert topology.primary_credentials() == {"db": 3, "username": "user", "password": "p@ss"}
    host = topology.layer_host(socket_timeout=30)
    assert host["sentinels"] == [("s1", 26379)] and host["master_name"] == "main"
    assert host["db"] == 3 and host["password"] == "p@ss" and host["socket_timeout"] == 30
    assert "address" not in host  # channels-redis would take an address over the Sentinels
    cache = topology.cache(key_prefix="hub.cache")
    assert cache["LOCATION"] == "redis://main/3"
    assert cache["OPTIONS"]["SENTINELS"] == [("s1", 26379)] and cache["OPTIONS"]["PASSWORD"] == "p@ss"
    assert cache["OPTIONS"]["CLIENT_CLASS"] == "django_redis.client.DefaultClient"  # the primary only
    with pytest.raises(RedisConfigError, match="REDIS_SENTINEL_MASTER"):
        RedisTopology("redis:///0", (("s1", 26379),), "")
    with pytest.raises(RedisConfigError, match="database"):
        RedisTopology("redis:///zero", (("s1", 26379),), "main").primary_credentials()


def test_without_sentinels_everything_uses_the_url():
    topology = RedisTopology("redis://127.0.0.1:6379/15")
    assert topology.layer_host(socket_timeout=30) == {"address": "redis://127.0.0.1:6379/15", "socket_timeout": 30}
    assert topology.cache(key_prefix="p")["LOCATION"] == "redis://127.0.0.1:6379/15"


def test_settings_refuse_sentinels_without_a_primary_name_or_with_a_bad_entry():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, REDIS_SENTINELS="127.0.0.1:26379")
    assert result.returncode != 0 and "REDIS_SENTINEL_MASTER" in result.stderr
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, REDIS_SENTINELS="127.0.0.1", REDIS_SENTINEL_MASTER="m")
    assert result.returncode != 0 and "REDIS_SENTINELS" in result.stderr
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, REDIS_SENTINELS="127.0.0.1:26379,127.0.0.1:26380",
                           REDIS_SENTINEL_MASTER="m", show="settings.CHANNEL_LAYERS['default']['CONFIG']['hosts']")
    assert result.returncode == 0, result.stderr
    assert "'master_name': 'm'" in result.stdout and "26380" in result.stdout


def _retry(action, timeout_s):
    """`action()` until it works: the first calls after a failover may meet the dead primary's connections."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return action()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def _until(condition, timeout_s):
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.05)


async def _aretry(action, timeout_s):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await action()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest.mark.e2e
@pytest.mark.skipif(find_server_binary()[0] is None,
                    reason=f"no server binary to run Sentinels with: {find_server_binary()[1]}")
async def test_clients_layer_and_cache_follow_the_primary_through_a_failover(tmp_path):
    import redis as redis_py
    from django_redis.cache import RedisCache

    from hub.layers import FanoutRedisPubSubChannelLayer
    from hub.protocol import CLOSE_RESUME
    from hub.push import close_message
    from hub.testing.sentinel import MASTER_NAME, SentinelSetup

    with SentinelSetup(tmp_path) as setup:
        topology = RedisTopology("redis:///0", tuple(parse_sentinels(setup.sentinels)), MASTER_NAME)
        sync = redis_py.Redis(connection_pool=topology.sync_pool(max_connections=4, timeout=5, socket_timeout=5))
        from redis import asyncio as aioredis

        aio = aioredis.Redis(connection_pool=topology.async_pool(max_connections=4, timeout=5, socket_timeout=5))
        cache_config = topology.cache(key_prefix="t")
        cache = RedisCache(cache_config["LOCATION"], {"OPTIONS": cache_config["OPTIONS"]})
        layer = FanoutRedisPubSubChannelLayer(hosts=[topology.layer_host(socket_timeout=30)], prefix="t")
        received = []
        collector = None
        try:
            sync.set("before", "1")
            assert await aio.get("before") == b"1"
            cache.set("k", "v")
            channel = await layer.new_channel()

            async def collect():  # one receive at a time for the whole test: a cancelled one drops the channel
                while True:
                    received.append(await layer.receive(channel))

            collector = asyncio.ensure_future(collect())
            await layer.send(channel, {"type": "hub.push", "n": 1})
            await _until(lambda: {"type": "hub.push", "n": 1} in received, 10)
            assert setup.primary_address() == ("127.0.0.1", setup.primary_port)

            setup.kill_primary()
            promoted = await asyncio.to_thread(setup.wait_for_failover)
            assert promoted == ("127.0.0.1", setup.replica_port)
            promoted_at = time.monotonic()
            # Within 30 s of the promotion every client works against the new primary.
            await asyncio.to_thread(_retry, lambda: sync.set("after", "2"), 30)
            assert await _aretry(lambda: aio.get("after"), 30) == b"2"
            assert await _aretry(lambda: aio.get("before"), 30) == b"1"  # replicated before the kill
            await asyncio.to_thread(_retry, lambda: cache.set("k2", "v2"), 30)
            assert cache.get("k2") == "v2"
            # The layer's subscriber reconnects through the Sentinels; what was published meanwhile is
            # lost, so every local socket is told to resume (4500). Then pushes flow again.
            deadline = time.monotonic() + 30
            while {"type": "hub.push", "n": 2} not in received:
                assert time.monotonic() < deadline, received
                try:
                    await layer.send(channel, {"type": "hub.push", "n": 2})
                except Exception:
                    pass  # the publishing connection meets the dead primary first
                await asyncio.sleep(0.5)
            assert close_message(CLOSE_RESUME) in received
            assert time.monotonic() - promoted_at < 30
        finally:
            if collector is not None:
                collector.cancel()
                await asyncio.gather(collector, return_exceptions=True)
            await layer.flush()
            await aio.aclose()
            sync.close()

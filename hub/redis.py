"""Redis clients for Hub's own keys (presence, limits, batched pushes), to REDIS_URL's server or the
Sentinels' primary (hub/redis_topology.py).

redis.asyncio clients are bound to the event loop that created them, so the async
client is cached per loop; the sync client's pool is thread-safe and shared.
"""

import asyncio
import re
import weakref

import redis
from django.conf import settings
from redis import asyncio as aioredis

from hub.redis_topology import RedisTopology

MAX_CONNECTIONS = 64
POOL_WAIT_SECS = 20
_async_clients = weakref.WeakKeyDictionary()
_sync_client = None
_shard_async_clients = weakref.WeakKeyDictionary()  # loop -> {shard index: client}
_shard_sync_clients = {}
_GLOB_SPECIAL = re.compile(r"[*?\[\]\\]")


def key(*parts):
    """A namespaced Redis key: `hub:<part>:<part>` (prefix from HUB_REDIS_PREFIX)."""
    return ":".join([settings.HUB_REDIS_PREFIX, *map(str, parts)])


def delete_matching(*parts):
    """Delete every key `key(*parts)` matches, where a part "*" stands for any text (sync; SCAN, not KEYS).

    SCAN walks the whole keyspace in small steps without blocking Redis: for rare work such
    as forgetting a deleted user, never for a request.
    """
    pattern = ":".join(part if part == "*" else _GLOB_SPECIAL.sub(r"\\\g<0>", str(part))
                       for part in (settings.HUB_REDIS_PREFIX, *parts))
    client = get_sync_redis()
    batch = []
    for name in client.scan_iter(match=pattern, count=1000):
        batch.append(name)
        if len(batch) == 500:
            client.unlink(*batch)
            batch.clear()
    if batch:
        client.unlink(*batch)


def topology():
    """Where Redis is, from the settings as they are now (tests point REDIS_URL elsewhere)."""
    return RedisTopology(settings.REDIS_URL, tuple(settings.REDIS_SENTINELS), settings.REDIS_SENTINEL_MASTER,
                         settings.REDIS_SENTINEL_PASSWORD)


def get_async_redis():
    """The async client for the running event loop."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # A blocking pool waits for a free connection under a burst instead of raising
        # "Too many connections" (redis-py's plain pool does, past 100).
        pool = topology().async_pool(
            max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECS,
            socket_timeout=30, socket_connect_timeout=5, health_check_interval=30)
        client = aioredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    return client


def get_sync_redis():
    """The shared sync client (management commands, sync views, on-commit pushes)."""
    global _sync_client
    if _sync_client is None:
        pool = topology().sync_pool(
            max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECS,
            socket_timeout=30, socket_connect_timeout=5, health_check_interval=30)
        _sync_client = redis.Redis(connection_pool=pool)
    return _sync_client


def _shard_pool(pool_class, index):
    return pool_class.from_url(settings.HUB_LAYER_REDIS_URLS[index], max_connections=MAX_CONNECTIONS,
                               timeout=POOL_WAIT_SECS, socket_timeout=30, socket_connect_timeout=5,
                               health_check_interval=30)


def get_async_layer_redis(index):
    """The async client of the channel layer's shard `index` (HUB_LAYER_REDIS_URLS); without shards, the main one."""
    if not settings.HUB_LAYER_REDIS_URLS:
        return get_async_redis()
    clients = _shard_async_clients.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(index)
    if client is None:
        client = clients[index] = aioredis.Redis(connection_pool=_shard_pool(aioredis.BlockingConnectionPool, index))
    return client


def get_sync_layer_redis(index):
    """The sync client of the channel layer's shard `index`; without shards, the main one."""
    if not settings.HUB_LAYER_REDIS_URLS:
        return get_sync_redis()
    client = _shard_sync_clients.get(index)
    if client is None:
        client = _shard_sync_clients[index] = redis.Redis(connection_pool=_shard_pool(redis.BlockingConnectionPool,
                                                                                      index))
    return client


def reset_clients():
    """Forget cached clients (tests that point REDIS_URL elsewhere)."""
    global _sync_client
    _async_clients.clear()
    _sync_client = None
    _shard_async_clients.clear()
    _shard_sync_clients.clear()

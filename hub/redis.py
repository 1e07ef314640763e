"""Redis clients for Hub's own keys (presence, limits, batched pushes).

redis.asyncio clients are bound to the event loop that created them, so the async
client is cached per loop; the sync client's pool is thread-safe and shared.
"""

import asyncio
import weakref

import redis
from django.conf import settings
from redis import asyncio as aioredis

MAX_CONNECTIONS = 64
POOL_WAIT_SECS = 20
_async_clients = weakref.WeakKeyDictionary()
_sync_client = None


def key(*parts):
    """A namespaced Redis key: `hub:<part>:<part>` (prefix from HUB_REDIS_PREFIX)."""
    return ":".join([settings.HUB_REDIS_PREFIX, *map(str, parts)])


def get_async_redis():
    """The async client for the running event loop."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # A blocking pool waits for a free connection under a burst instead of raising
        # "Too many connections" (redis-py's plain pool does, past 100).
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECS,
            socket_timeout=30, socket_connect_timeout=5, health_check_interval=30)
        client = aioredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    return client


def get_sync_redis():
    """The shared sync client (management commands, sync views, on-commit pushes)."""
    global _sync_client
    if _sync_client is None:
        pool = redis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECS,
            socket_timeout=30, socket_connect_timeout=5, health_check_interval=30)
        _sync_client = redis.Redis(connection_pool=pool)
    return _sync_client


def reset_clients():
    """Forget cached clients (tests that point REDIS_URL elsewhere)."""
    global _sync_client
    _async_clients.clear()
    _sync_client = None

"""The per-user socket registry (hub.connections) against real Redis: expiry on Redis's clock."""

import time

from hub import connections
from hub.redis import get_async_redis, key


async def test_a_process_whose_clock_runs_ahead_does_not_expire_other_processes_sockets(monkeypatch):
    assert await connections.register(7, "on-time", 60) == 1
    # A second server process whose clock is an hour ahead registers the user's next socket.
    ahead = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: ahead)
    assert await connections.register(7, "from-the-future", 60) == 2
    monkeypatch.undo()
    assert await connections.refresh(7, "on-time", 60)


async def test_refreshing_keeps_the_registry_itself_alive():
    # A user with one long-lived socket: only refreshes, no new registration. The set's own TTL
    # must follow, or Redis drops it and the next refresh closes a live socket 4500.
    await connections.register(8, "tab", 1)
    assert await get_async_redis().ttl(key("sockets", 8)) <= 61
    assert await connections.refresh(8, "tab", 600)
    assert await get_async_redis().ttl(key("sockets", 8)) > 600


async def test_refreshing_a_socket_redis_no_longer_knows_says_so():
    assert not await connections.refresh(9, "never-registered", 60)
    assert await get_async_redis().exists(key("sockets", 9)) == 0

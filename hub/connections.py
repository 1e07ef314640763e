"""A socket's registration: the per-user socket count across every server process (the 20-sockets
limit), its user and session groups, and the lifecycle listeners.

The count is one sorted set per user: member = connection id, score = expiry time. Dead
processes' entries age out by score, so a crash never locks a user out.
"""

import logging
import time

from hub import app_settings, lifecycle, protocol
from hub.push import session_group, user_group
from hub.redis import get_async_redis, get_sync_redis, key

logger = logging.getLogger(__name__)

# Expiry times come from Redis's own clock (TIME), the same for every server process: a process
# whose clock ran ahead would otherwise expire the live sockets other processes registered.
# KEYS[1] user's set; ARGV: conn, ttl seconds. Returns the count including this socket.
_REGISTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
return redis.call('ZCARD', KEYS[1])
"""
# KEYS[1] user's set; ARGV: conn, ttl seconds. Returns 1 if the socket was there (and now expires later), else 0.
_REFRESH = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
return 1
"""


async def open_socket(conn):
    """Count the socket, subscribe its user and session groups, tell listeners; False if it was closed instead
    (one socket too many for the user: 4429; Redis unreachable: 4500)."""
    try:
        count = await register(conn.user.pk, conn.conn_id, app_settings.PRESENCE_TTL_SECS)
        conn.registered = True
        if count > app_settings.MAX_SOCKETS_PER_USER:
            await conn.close_with(protocol.CLOSE_FLOODING)
            return False
        await conn.subscriptions.add(user_group(conn.user.pk))
        if conn.session_key:
            await conn.subscriptions.add(session_group(conn.session_key))
        await lifecycle.notify("connected", conn)
        return True
    except Exception:
        logger.exception("could not set up connection %s", conn.conn_id)
        await conn.close_with(protocol.CLOSE_RESUME)
        return False


def _key(user_id):
    return key("sockets", user_id)


# When each user last had a live socket (set on connect, every refresh and close): "were they away since
# then?", asked by the email digest (notifications.emails). Kept a while after they leave.
LIVE_AT_TTL_SECS = 7 * 24 * 3600


def _live_at_key(user_id):
    return key("live_at", user_id)


async def _with_live_at(user_id, command):
    """Run `command(pipeline)` and stamp the user's live-at time, in one round trip (two keys: two slots in a
    cluster, hence not one script)."""
    async with get_async_redis().pipeline(transaction=False) as pipe:
        command(pipe)
        pipe.set(_live_at_key(user_id), int(time.time()), ex=LIVE_AT_TTL_SECS)
        result, _ = await pipe.execute()
    return result


async def register(user_id, conn_id, ttl_s):
    """Record a socket; return how many live sockets the user has now (this one included)."""
    return await _with_live_at(user_id, lambda pipe: pipe.eval(_REGISTER, 1, _key(user_id), conn_id, ttl_s))


async def refresh(user_id, conn_id, ttl_s):
    """Push a socket's expiry forward; False if Redis no longer has it (restarted, or swept as dead)."""
    return bool(await _with_live_at(user_id, lambda pipe: pipe.eval(_REFRESH, 1, _key(user_id), conn_id, ttl_s)))


async def unregister(user_id, conn_id):
    await _with_live_at(user_id, lambda pipe: pipe.zrem(_key(user_id), conn_id))


def last_live(user_ids):
    """{user id: unix time (s) they last had a live socket, or None}, for many users in one MGET (sync).

    Precise to a refresh (a live socket is refreshed at least every HUB_PRESENCE_TTL); None for
    someone not connected for LIVE_AT_TTL_SECS, or when Redis lost it (a restart).
    """
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    values = get_sync_redis().mget([_live_at_key(uid) for uid in user_ids])
    return {uid: None if value is None else int(value) for uid, value in zip(user_ids, values)}


def forget_user(user_id):
    """Drop a deleted user's socket count and live-at time (sync; their sockets are being closed)."""
    get_sync_redis().delete(_key(user_id), _live_at_key(user_id))

"""Rates written as COUNT/SECONDS ("20/10s", "30/1h"), and limiting an action per user across processes."""

import re
import uuid

from hub.errors import RateLimited
from hub.redis import delete_matching, get_async_redis, get_sync_redis, key

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smh]?)\s*$")
_UNIT_SECS = {"": 1, "s": 1, "m": 60, "h": 3600}

# A sliding log: one sorted-set entry per allowed action, scored by Redis's own clock
# (the same for every server process). A fixed window would let 2 x COUNT through
# around its boundary; this lets at most COUNT through in any window of that length.
# KEYS[1] the log; ARGV: limit, window in seconds, a unique member.
# Returns "0" when allowed, else the seconds until the oldest entry leaves the window.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


def parse_rate(text):
    """'20/10s' -> (20, 10.0); ValueError for anything else."""
    match = _RATE.match(text or "")
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ValueError(f"bad rate {text!r}: use COUNT/SECONDS like 20/10s")
    return int(match.group(1)), float(int(match.group(2)) * _UNIT_SECS[match.group(3)])


async def limit(bucket, user_id, rate, message):
    """Count one `bucket` action of a user at `rate`, or raise RateLimited (with `message`) when over it."""
    retry_after = await hit(bucket, user_id, rate)
    if retry_after:
        raise RateLimited(retry_after, message)


async def hit(bucket, user_id, rate):
    """Count one `bucket` action of a user at `rate`: 0 if allowed, else the seconds until one more is.

    Held in Redis (`hub:rate:<bucket>:<user id>`), so it limits the user across tabs and processes.
    """
    limit, window_s = parse_rate(rate)
    wait = float(await get_async_redis().eval(_HIT, 1, key("rate", bucket, user_id), limit, window_s,
                                              uuid.uuid4().hex))
    return max(0.001, wait) if wait > 0 else 0


def hit_sync(bucket, owner_id, rate):
    """hit() for sync code (the HTTP API's views): the same log, key and answer, over the sync client."""
    limit, window_s = parse_rate(rate)
    wait = float(get_sync_redis().eval(_HIT, 1, key("rate", bucket, owner_id), limit, window_s, uuid.uuid4().hex))
    return max(0.001, wait) if wait > 0 else 0


def forget_user(user_id):
    """Drop a deleted user's logs of every bucket (sync; buckets are the apps' names, so found by SCAN)."""
    delete_matching("rate", "*", user_id)

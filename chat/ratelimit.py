"""HUB_CHAT_RATE ("20/10s"): chat sends per user in any window of that length, across processes."""

import uuid

from django.conf import settings

from hub.rates import parse_rate
from hub.redis import get_async_redis, key

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


async def hit(user_id, *, bucket="chat-send", rate=None):
    """Count one action; return 0 if allowed, else the seconds until one more is allowed."""
    limit, window_s = parse_rate(rate or settings.HUB_CHAT_RATE)
    wait = float(await get_async_redis().eval(_HIT, 1, key("rate", bucket, user_id), limit, window_s,
                                              uuid.uuid4().hex))
    return max(0.001, wait) if wait > 0 else 0

"""The per-user budget for expensive events (HUB_USER_BUDGET): shared by all of a user's sockets.

The per-socket frame budget (hub.guards.FrameBudget) bounds frames, but one account may hold
HUB_MAX_SOCKETS_PER_USER sockets, and a `history` page costs the server hundreds of times what a
`typing` does. So each topic declares what its events weigh (`Topic.costs`, hub.topics), and an
event of weight 2 or more spends its weight from one token bucket per user in Redis, across
every socket and every server process.

Weight-1 events (sends, typing, reads, heartbeats) do not touch this bucket: they stay within
the per-socket budget, and the hot path keeps its one Redis round trip fewer. Weighted events
pay one round trip here, beside the database work that makes them weigh.
"""

from hub import app_settings
from hub.errors import RateLimited
from hub.rates import parse_rate
from hub.redis import get_async_redis, key

# A token bucket on Redis's clock: O(1) memory per user, refilled continuously.
# KEYS[1] the user's bucket; ARGV: capacity, refill per second, cost. Returns "0" when spent,
# else the seconds until `cost` tokens will be there (nothing is spent then).
_SPEND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local capacity, refill, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * refill)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = (cost - tokens) / refill end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / refill * 1000) + 1000)
return tostring(wait)
"""


def bucket_key(user_id):
    # Under "rate", so hub.rates.forget_user() clears it with the user's other limits.
    return key("rate", "budget", user_id)


async def spend(user_id, cost):
    """Take `cost` from the user's budget or raise RateLimited; weight-1 events are free here."""
    if cost <= 1:
        return
    capacity, window_s = parse_rate(app_settings.USER_BUDGET)
    cost = min(cost, capacity)  # an event heavier than the whole budget still gets through when it is full
    wait = float(await get_async_redis().eval(_SPEND, 1, bucket_key(user_id), capacity, capacity / window_s, cost))
    if wait > 0:
        raise RateLimited(max(0.001, wait), "This account asked for too much at once (HUB_USER_BUDGET); slow down.")

"""HUB_CHAT_RATE ("20/10s"): chat sends per user per window, counted in Redis across processes."""

import time

from django.conf import settings

from hub.rates import parse_rate
from hub.redis import get_async_redis, key


async def hit(user_id, *, bucket="chat-send", rate=None):
    """Count one action; return 0 if allowed, else the seconds until the window frees up.

    A fixed window per user: one INCR and, the first time, one PEXPIRE.
    """
    limit, window_s = parse_rate(rate or settings.HUB_CHAT_RATE)
    now = time.time()
    window = int(now // window_s)
    counter = key("rate", bucket, user_id, window)
    redis = get_async_redis()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(counter)
        pipe.pexpire(counter, int(window_s * 1000) + 1000)
        count, _ = await pipe.execute()
    if count > limit:
        return max(0.001, (window + 1) * window_s - now)
    return 0

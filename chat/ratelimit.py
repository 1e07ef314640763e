"""HUB_CHAT_RATE ("20/10s"): chat sends per user per window, counted in Redis across processes."""

import re
import time

from django.conf import settings

from hub.redis import get_async_redis, key

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smh]?)\s*$")
_UNIT_SECS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_rate(text):
    """'20/10s' -> (20, 10.0); ValueError for anything else."""
    match = _RATE.match(text or "")
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ValueError(f"bad rate {text!r}: use COUNT/SECONDS like 20/10s")
    return int(match.group(1)), float(int(match.group(2)) * _UNIT_SECS[match.group(3)])


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

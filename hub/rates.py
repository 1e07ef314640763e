"""Rates written as COUNT/SECONDS ("20/10s", "30/1h") and the per-socket frame budget."""

import re
import time

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smh]?)\s*$")
_UNIT_SECS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_rate(text):
    """'20/10s' -> (20, 10.0); ValueError for anything else."""
    match = _RATE.match(text or "")
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ValueError(f"bad rate {text!r}: use COUNT/SECONDS like 20/10s")
    return int(match.group(1)), float(int(match.group(2)) * _UNIT_SECS[match.group(3)])


class TokenBucket:
    """`limit` actions per `window_s`, refilled continuously, bursts up to `limit`.

    In memory: it guards one socket, which lives in one process.
    """

    def __init__(self, limit, window_s, clock=time.monotonic):
        self.capacity = float(limit)
        self.refill_per_s = limit / window_s
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()

    def take(self):
        """Spend one token: 0 if allowed, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill_per_s)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return (1 - self.tokens) / self.refill_per_s

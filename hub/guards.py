"""The per-socket guards: flood window, frame budget, keep-alive pacing and the idle/session watchdog.

Each is plain Python over a clock, so it is tested without a socket; the consumer owns one
of each per connection (a socket lives in one process, so memory is the right place).
"""

import asyncio
import collections
import logging
import time

from hub import protocol
from hub.rates import parse_rate

logger = logging.getLogger(__name__)


class FloodWindow:
    """Counts a socket's failed frames; `add()` says when there were too many in the window (close 4429)."""

    def __init__(self, max_failures, window_s, clock=time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self.failures = collections.deque()

    def add(self):
        """Record one failure; True when `max_failures` fell within the last `window_s`."""
        now = self.clock()
        self.failures.append(now)
        while self.failures and now - self.failures[0] > self.window_s:
            self.failures.popleft()
        return len(self.failures) >= self.max_failures


class FrameBudget:
    """`limit` frames per `window_s`, refilled continuously, bursts up to `limit` (a token bucket)."""

    def __init__(self, limit, window_s, clock=time.monotonic):
        self.capacity = float(limit)
        self.refill_per_s = limit / window_s
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()

    @classmethod
    def from_rate(cls, rate, clock=time.monotonic):
        """A budget from a COUNT/SECONDS rate ("200/10s")."""
        return cls(*parse_rate(rate), clock=clock)

    def take(self):
        """Spend one token: 0 if allowed, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill_per_s)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return (1 - self.tokens) / self.refill_per_s


class KeepAlive:
    """Paces the Redis refresh that keeps a socket registered: once per heartbeat interval.

    A heartbeat always refreshes (it is the client's once-per-interval keep-alive); other
    frames refresh only when nothing did for a whole interval, so a client that sends no
    heartbeats stays alive on its other frames without costing more than one that does.
    """

    def __init__(self, interval_s, clock=time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self.last = clock()  # registering the socket at connect was the first refresh

    def due(self):
        return self.clock() - self.last >= self.interval_s

    def done(self):
        self.last = self.clock()


class Watchdog:
    """Closes an idle socket (4408) and one whose session ended elsewhere (4401).

    `check_session()` is awaited every `session_check_s` and answers whether the session is
    still good; `close(code)` is awaited once when the socket must go. The consumer calls
    `saw_frame()` on every client frame, `start()` once the socket is set up, `stop()` at close.
    """

    def __init__(self, *, idle_s, session_check_s, check_session, close, clock=time.monotonic, sleep=asyncio.sleep):
        self.idle_s = idle_s
        self.session_check_s = session_check_s
        self.check_session = check_session
        self.close = close
        self.clock, self.sleep = clock, sleep
        self.last_frame = clock()
        self.next_session_check = self.last_frame + session_check_s
        self.task = None

    def start(self):
        self.task = asyncio.ensure_future(self.run())

    def stop(self):
        """Cancel the watch, unless this is the watch itself closing the socket."""
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    def saw_frame(self):
        self.last_frame = self.clock()

    def next_step(self):
        """("close", code), ("check_session", None), or ("sleep", seconds): what to do now."""
        now = self.clock()
        idle_deadline = self.last_frame + self.idle_s
        if now >= idle_deadline:
            return "close", protocol.CLOSE_IDLE
        if now >= self.next_session_check:
            self.next_session_check = now + self.session_check_s
            return "check_session", None
        return "sleep", max(0.05, min(idle_deadline, self.next_session_check) - now)

    async def run(self):
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("a socket's watchdog failed")

    async def _run(self):
        while True:
            step, value = self.next_step()
            if step == "close":
                await self.close(value)
                return
            if step == "sleep":
                await self.sleep(value)
            elif not await self._session_still_valid():
                await self.close(protocol.CLOSE_SESSION_ENDED)
                return

    async def _session_still_valid(self):
        try:
            return await self.check_session()
        except Exception as exc:
            # The database is briefly away: keep the socket, ask again next time.
            logger.warning("could not check the session of a socket: %s", exc)
            return True

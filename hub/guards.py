"""The per-socket guards: flood window, frame budget, and the watchdog (idle close, session re-check, keep-alive);
and the per-user turn (UserTurns) that keeps one account's sockets from crowding out everyone else's frames.

Each is plain Python over a clock, so it is tested without a socket; the consumer owns one
of each per connection (a socket lives in one process, so memory is the right place).
"""

import asyncio
import contextlib
import logging
import time

from hub import protocol
from hub.rates import parse_rate

logger = logging.getLogger(__name__)


class FloodWindow:
    """Counts a socket's failed frames; `add()` says when there were too many in the window (close 4429)."""

    # One of these per socket: slots and a plain list keep an idle socket small.
    __slots__ = ("max_failures", "window_s", "clock", "failures")

    def __init__(self, max_failures, window_s, clock=time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self.failures = []

    def add(self):
        """Record one failure; True when `max_failures` fell within the last `window_s`."""
        now = self.clock()
        self.failures.append(now)
        stale = next((i for i, stamp in enumerate(self.failures) if now - stamp <= self.window_s), len(self.failures))
        del self.failures[:stale]
        return len(self.failures) >= self.max_failures


class FrameBudget:
    """`limit` frames per `window_s`, refilled continuously, bursts up to `limit` (a token bucket)."""

    __slots__ = ("capacity", "refill_per_s", "tokens", "clock", "stamp")

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


class Watchdog:
    """One socket's clocks: closes it when idle (4408) or when its session ended (4401), and says
    when its registration in Redis needs refreshing.

    The registration (the per-user socket count, and presence through the `activity`
    listeners) expires `idle_s` after its last refresh; the socket is closed `idle_s` after its
    last frame. So that Redis never forgets a socket that is still open, a refresh is due once
    half of `idle_s` has passed since the last one and a frame came since: the watchdog does
    it at that moment, or the next frame does. Every heartbeat refreshes too, which is how a
    socket Redis lost (a restart) is noticed within one interval. Settings require `idle_s`
    to be at least twice `heartbeat_s`, so a client that heartbeats on time costs one refresh
    per interval, whatever else it sends.

    `check_session()` is awaited every `session_check_s` and answers whether the session is
    still good; `refresh()` refreshes and answers False when it closed the socket instead;
    `close(code)` is awaited once when the socket must go. The consumer calls `saw_frame()`
    on every client frame, `start()` once the socket is set up, `stop()` at close.

    Between steps the watch is a timer (`call_later`, the loop's by default), not a sleeping
    task: an idle socket then holds one timer handle instead of a task, its context and three
    coroutine frames (about 1 KiB each of 10,000 idle sockets; docs/performance.md). A task
    runs only while a step (a refresh, a session check, the close) is awaited.
    """

    __slots__ = ("idle_s", "session_check_s", "check_session", "refresh", "close", "clock", "call_later",
                 "last_frame", "last_refresh", "next_session_check", "task", "timer", "stopped")

    def __init__(self, *, idle_s, session_check_s, check_session, refresh, close, clock=time.monotonic,
                 call_later=None):
        self.idle_s, self.session_check_s = idle_s, session_check_s
        self.check_session, self.refresh, self.close = check_session, refresh, close
        self.clock, self.call_later = clock, call_later
        self.last_frame = self.last_refresh = clock()  # registering the socket was the first refresh
        self.next_session_check = self.last_frame + session_check_s
        self.task = self.timer = None
        self.stopped = False

    def start(self):
        self._wake()

    def _wake(self):
        """The timer fired (or the watch starts): run the steps now due in a task, which sets the next timer."""
        self.timer = None
        if not self.stopped:
            self.task = asyncio.ensure_future(self.run())

    def stop(self):
        """End the watch: its timer, and its running step unless this is the watch itself closing the socket."""
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    def saw_frame(self):
        self.last_frame = self.clock()

    def refreshed(self):
        self.last_refresh = self.clock()

    def refresh_due(self):
        """Whether a frame (other than a heartbeat, which always refreshes) should refresh the registration now."""
        return self.clock() - self.last_refresh >= self.idle_s / 2

    def next_step(self):
        """("close", code), ("check_session", None), ("refresh", None) or ("sleep", seconds): what to do now."""
        now = self.clock()
        idle_deadline = self.last_frame + self.idle_s
        if now >= idle_deadline:
            return "close", protocol.CLOSE_IDLE
        if now >= self.next_session_check:
            self.next_session_check = now + self.session_check_s
            return "check_session", None
        refresh_at = self.last_refresh + self.idle_s / 2
        if now >= refresh_at and self.last_frame > self.last_refresh:
            return "refresh", None
        wake = min(idle_deadline, self.next_session_check, refresh_at if refresh_at > now else idle_deadline)
        return "sleep", max(0.05, wake - now)

    async def run(self):
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("a socket's watchdog failed")

    async def _run(self):
        task = asyncio.current_task()
        # redis-py 8 sometimes swallows a cancellation in the middle of a command (about one in five
        # cancels landing there, measured): ask the task itself, or a cancelled watch runs forever.
        while not task.cancelling():
            step, value = self.next_step()
            if step == "close":
                await self.close(value)
                return
            if step == "sleep":
                if not self.stopped:
                    call_later = self.call_later or asyncio.get_running_loop().call_later
                    self.timer = call_later(value, self._wake)
                    self.task = None  # this task ends here; the timer starts the next
                return
            if step == "refresh":
                if not await self.refresh():
                    return  # Redis had lost the socket: it was closed 4500
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


class UserTurns:
    """At most `limit` frames of one user are handled at once in this process; the user's others wait.

    Handlers' database work runs on one thread per process (asgiref's thread-sensitive mode,
    which Channels' database_sync_to_async uses): a user with 20 sockets could keep 20 jobs
    queued there at all times, and every other user's `send` would wait behind them. With a
    turn per user, one account has at most `limit` jobs queued, whatever its number of sockets.
    A socket handles its frames one at a time anyway, so no socket's replies change order.
    Entries live only while a frame of that user is in flight or waiting.
    """

    __slots__ = ("entries",)

    def __init__(self):
        self.entries = {}  # user id -> [semaphore, frames holding or waiting for it]

    @contextlib.asynccontextmanager
    async def turn(self, user_id, limit):
        if limit <= 0:  # no limit (the bench's comparison)
            yield
            return
        entry = self.entries.get(user_id)
        if entry is None:
            entry = self.entries[user_id] = [asyncio.Semaphore(limit), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self.entries[user_id]

"""The per-socket guards on a fake clock, without a socket."""

import asyncio
import time

import pytest

from hub import protocol
from hub.guards import FloodWindow, FrameBudget, UserTurns, Watchdog


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_flood_window_closes_at_the_limit_within_the_window_only():
    clock = Clock()
    flood = FloodWindow(3, 10.0, clock=clock)
    assert [flood.add(), flood.add()] == [False, False]
    clock.now += 11  # both have left the window
    assert [flood.add(), flood.add()] == [False, False]
    clock.now += 5
    assert flood.add() is True


def test_frame_budget_allows_a_burst_then_refills_continuously():
    clock = Clock()
    budget = FrameBudget.from_rate("4/2s", clock=clock)
    assert [budget.take() for _ in range(4)] == [0, 0, 0, 0]
    assert budget.take() == pytest.approx(0.5)  # 2 frames per second: the next in half a second
    clock.now += 0.5
    assert budget.take() == 0
    clock.now += 100
    assert [budget.take() for _ in range(5)][-1] > 0  # refilled to the burst size, not beyond


class Closes(list):
    """The close codes a watchdog asked for, and an event to await the first."""

    def __init__(self):
        super().__init__()
        self.event = asyncio.Event()


def make_watchdog(clock, *, session_answers=(), idle_s=60, call_later=None, refresh_answers=()):
    answers, refresh_answers = list(session_answers), list(refresh_answers)
    closed, checks, refreshes = Closes(), [], []

    async def check_session():
        checks.append(clock())
        answer = answers.pop(0) if answers else True
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(code):
        closed.append(code)
        closed.event.set()

    async def refresh():
        refreshes.append(clock())
        dog.refreshed()
        return refresh_answers.pop(0) if refresh_answers else True

    dog = Watchdog(idle_s=idle_s, session_check_s=10, check_session=check_session, refresh=refresh,
                   close=close, clock=clock, call_later=call_later)
    return dog, closed, checks


def test_watchdog_steps_idle_close_and_session_checks():
    clock = Clock()
    dog, _, _ = make_watchdog(clock)
    dog.session_check_s = dog.next_session_check = 10**6  # sessions are the next test's
    assert dog.next_step() == ("sleep", 30)  # half the TTL: when a refresh could be due
    clock.now += 30
    assert dog.next_step() == ("sleep", 30)  # no frame since the last refresh: nothing to keep alive yet
    clock.now += 15
    dog.saw_frame()  # a frame pushes the idle deadline out...
    assert dog.next_step() == ("refresh", None)  # ...past Redis's expiry: refresh now
    dog.refreshed()
    assert dog.next_step() == ("sleep", 30)
    clock.now += 59
    assert dog.next_step() == ("sleep", 1)  # the refresh 29 s ago saw no frame since: nothing due
    clock.now += 1
    assert dog.next_step() == ("close", protocol.CLOSE_IDLE)


def test_a_frame_refreshes_once_half_the_ttl_has_passed_since_the_last_refresh():
    clock = Clock()
    dog, _, _ = make_watchdog(clock)  # TTL 60 s
    clock.now += 29.9
    assert not dog.refresh_due()
    clock.now += 0.1
    assert dog.refresh_due()
    dog.refreshed()
    assert not dog.refresh_due()


def test_redis_never_forgets_a_socket_the_watchdog_keeps_open():
    """Whatever the timing of frames, the registration's expiry is never before the idle close."""
    clock = Clock()
    dog, closed, _ = make_watchdog(clock)
    dog.session_check_s = dog.next_session_check = 10**6
    expiry = clock() + dog.idle_s
    for gap in [1, 59.9, 29, 2, 31, 59, 5, 44, 16, 58, 0.5, 30, 30, 12]:  # seconds between frames, none heartbeats
        target = clock.now + gap
        while clock.now < target:
            assert expiry > clock.now, (clock.now, expiry)  # the socket is open: Redis must know it
            step, value = dog.next_step()
            if step == "refresh":
                dog.refreshed()
                expiry = clock() + dog.idle_s
            else:
                assert step == "sleep", step
                clock.now = min(target, clock.now + value)
        assert expiry > clock.now, (clock.now, expiry)
        dog.saw_frame()
        if dog.refresh_due():
            dog.refreshed()
            expiry = clock() + dog.idle_s
        assert expiry >= dog.last_frame + dog.idle_s / 2, (clock.now, expiry)
    assert closed == []


async def test_watchdog_retries_a_failed_session_check_and_closes_4401_when_it_ended():
    clock = Clock()

    def call_later_on_the_fake_clock(seconds, callback):
        clock.now += seconds
        return asyncio.get_running_loop().call_soon(callback)

    dog, closed, checks = make_watchdog(clock, session_answers=[OSError("database away"), True, False],
                                        call_later=call_later_on_the_fake_clock)
    dog.start()
    await asyncio.wait_for(closed.event.wait(), 5)
    assert closed == [protocol.CLOSE_SESSION_ENDED]
    assert checks == [1010, 1020, 1030]  # the failed check was asked again at the next interval


async def test_watchdog_closes_an_idle_socket_4408():
    dog, closed, _ = make_watchdog(time.monotonic, idle_s=0.05)
    dog.start()
    await asyncio.wait_for(closed.event.wait(), 5)
    assert closed == [protocol.CLOSE_IDLE]
    assert dog.timer is None  # nothing left scheduled once it closed


async def test_a_sleeping_watchdog_holds_a_timer_not_a_task_and_stop_cancels_it():
    dog, closed, _ = make_watchdog(time.monotonic, idle_s=60)
    dog.start()
    first = dog.task
    await asyncio.wait_for(first, 5)  # nothing due: the step sets the timer and ends
    assert dog.task is None and dog.timer is not None
    dog.stop()
    assert dog.timer is None
    dog._wake()  # a timer that fired anyway starts nothing after stop()
    assert dog.task is None and closed == []


async def test_user_turns_let_two_frames_of_a_user_run_and_others_wait_without_delaying_other_users():
    turns = UserTurns()
    release = asyncio.Event()
    order = []

    async def frame(user_id, name):
        async with turns.turn(user_id, 2):
            order.append(f"start {name}")
            if user_id == 1:
                await release.wait()
            order.append(f"end {name}")

    first, second, third = (asyncio.ensure_future(frame(1, name)) for name in ("a1", "a2", "a3"))
    await asyncio.sleep(0)  # let them reach the gate
    await frame(2, "b1")  # another user is not held up by user 1's two frames in flight
    assert order == ["start a1", "start a2", "start b1", "end b1"]
    assert not third.done() and turns.entries[1][1] == 3
    release.set()
    await asyncio.gather(first, second, third)
    assert order[4:] == ["end a1", "end a2", "start a3", "end a3"]
    assert turns.entries == {}  # nothing kept once a user has no frame in flight


async def test_user_turns_release_the_turn_when_a_frame_fails_and_zero_means_no_limit():
    turns = UserTurns()
    with pytest.raises(RuntimeError):
        async with turns.turn(1, 1):
            raise RuntimeError("handler bug")
    async with turns.turn(1, 1):
        pass
    assert turns.entries == {}
    async with turns.turn(1, 0), turns.turn(1, 0):
        assert turns.entries == {}


async def test_a_cancelled_watchdog_stops_even_when_a_call_swallows_the_cancellation():
    """redis-py 8 sometimes swallows a cancel landing inside a command; the watch must end all the same."""
    entered = asyncio.Event()

    async def refresh_that_swallows_a_cancel():
        entered.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass  # what the library does, now and then
        return True

    dog = Watchdog(idle_s=0.2, session_check_s=100, check_session=lambda: None,
                   refresh=refresh_that_swallows_a_cancel, close=lambda code: None)
    dog.last_refresh -= 1  # a refresh is due at once
    dog.saw_frame()
    dog.start()
    await asyncio.wait_for(entered.wait(), 5)
    dog.task.cancel()
    await asyncio.wait_for(asyncio.wait([dog.task]), 5)  # before: the loop went on, refreshing forever
    assert dog.task.done()

"""The per-socket guards on a fake clock, without a socket."""

import asyncio
import time

import pytest

from hub import protocol
from hub.guards import FloodWindow, FrameBudget, KeepAlive, Watchdog


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


def test_keep_alive_is_due_once_per_interval():
    clock = Clock()
    keep_alive = KeepAlive(25, clock=clock)
    assert not keep_alive.due()  # registering at connect was the first refresh
    clock.now += 24.9
    assert not keep_alive.due()
    clock.now += 0.1
    assert keep_alive.due()
    keep_alive.done()
    assert not keep_alive.due()


def make_watchdog(clock, *, session_answers=(), idle_s=60, sleep=asyncio.sleep):
    answers = list(session_answers)
    closed, checks = [], []

    async def check_session():
        checks.append(clock())
        answer = answers.pop(0) if answers else True
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(code):
        closed.append(code)

    dog = Watchdog(idle_s=idle_s, session_check_s=10, check_session=check_session, close=close, clock=clock,
                   sleep=sleep)
    return dog, closed, checks


def test_watchdog_steps_idle_close_and_session_checks():
    clock = Clock()
    dog, _, _ = make_watchdog(clock)
    assert dog.next_step() == ("sleep", 10)
    clock.now += 10
    assert dog.next_step() == ("check_session", None)
    assert dog.next_step() == ("sleep", 10)
    clock.now += 45
    dog.saw_frame()  # a frame pushes the idle deadline out
    clock.now += 59
    assert dog.next_step()[0] == "check_session"
    clock.now += 1
    assert dog.next_step() == ("close", protocol.CLOSE_IDLE)


async def test_watchdog_retries_a_failed_session_check_and_closes_4401_when_it_ended():
    clock = Clock()

    async def sleep_on_the_fake_clock(seconds):
        clock.now += seconds

    dog, closed, checks = make_watchdog(clock, session_answers=[OSError("database away"), True, False],
                                        sleep=sleep_on_the_fake_clock)
    await asyncio.wait_for(dog.run(), 5)
    assert closed == [protocol.CLOSE_SESSION_ENDED]
    assert checks == [1010, 1020, 1030]  # the failed check was asked again at the next interval


async def test_watchdog_closes_an_idle_socket_4408():
    dog, closed, _ = make_watchdog(time.monotonic, idle_s=0.05)
    await asyncio.wait_for(dog.run(), 5)
    assert closed == [protocol.CLOSE_IDLE]

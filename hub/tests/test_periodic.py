"""hub.periodic over real Redis: one process per round runs the step; a round's failure does not stop the loop."""

import asyncio

from hub.periodic import Periodic
from hub.redis import get_async_redis


async def test_one_process_a_round_runs_the_step():
    ran = []

    async def step():
        ran.append(1)
        return len(ran)

    work = Periodic("test-periodic", step, 5)
    assert await work.run_once(token="process-a") == 1
    assert await work.run_once(token="process-b") is None  # the round is taken
    assert 4000 < await get_async_redis().pttl(work.lock_key) <= 4500
    await get_async_redis().delete(work.lock_key)  # the next round
    assert await work.run_once(token="process-b") == 2


async def test_the_loop_goes_on_after_a_failed_round():
    rounds = []
    done = asyncio.Event()

    async def step():
        rounds.append(1)
        await get_async_redis().delete(work.lock_key)
        if len(rounds) == 1:
            raise RuntimeError("Redis went away for a moment")
        done.set()

    work = Periodic("test-periodic-fail", step, 0.01)
    work.ensure()
    work.ensure()  # once per event loop
    assert len(work.tasks) == 1
    await asyncio.wait_for(done.wait(), 5)
    for task in work.tasks.values():
        task.cancel()
    assert len(rounds) >= 2

"""Work every server process runs on a timer, one process at a time: `Periodic(name, step, every_secs)`.

`step()` is an async function; each round, the process that takes the Redis lock `hub:<name>:lock`
(held a little less than a round, as presence's sweeper) awaits it, and the others skip that round.
Register the Periodic as a hub.lifecycle listener: it starts with the server process (or with its
first socket elsewhere), one loop per event loop, and a failed round is logged and tried again.
"""

import asyncio
import logging
import os
import uuid

from hub.redis import get_async_redis, key

logger = logging.getLogger(__name__)
_TOKEN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Periodic:
    def __init__(self, name, step, every_secs):
        self.name, self.step, self.every_secs = name, step, every_secs
        self.tasks = {}  # event loop -> its task

    @property
    def lock_key(self):
        return key(self.name, "lock")

    async def run_once(self, *, token=_TOKEN):
        """One round if this process takes the lock: step()'s result, or None when another holds it."""
        lock_ms = int(self.every_secs * 900)
        if not await get_async_redis().set(self.lock_key, token, nx=True, px=lock_ms):
            return None
        return await self.step()

    async def _forever(self):
        task = asyncio.current_task()
        while not task.cancelling():  # redis-py may swallow a cancellation (hub.outbox)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("%s: a round failed (%s); trying again", self.name, error)
            await asyncio.sleep(self.every_secs)

    def ensure(self):
        """Start this process's loop on the running event loop, once."""
        loop = asyncio.get_running_loop()
        task = self.tasks.get(loop)
        if task is None or task.done():
            self.tasks.clear()
            self.tasks[loop] = asyncio.ensure_future(self._forever())

    # hub.lifecycle listener
    async def started(self):
        self.ensure()

    async def connected(self, conn):
        self.ensure()

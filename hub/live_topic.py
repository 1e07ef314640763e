"""Topic `hub:admin`: the staff live view's numbers (hub.live_stats), pushed to each staff socket that joined.

Staff only, checked at the join and again before every push: a user who is no longer staff (or
active) gets `removed` and is taken out of the topic within one push interval.
"""

import asyncio
import logging

from hub import live_stats
from hub.errors import Forbidden, UnknownTopic
from hub.push import apublish, push_message, user_group
from hub.topics import Topic

logger = logging.getLogger(__name__)
PUSH_SECS = live_stats.SAMPLE_SECS
ADMIN_SUFFIX = "admin"


def is_staff(user):
    return bool(user.is_active and user.is_staff)


class LiveStatsTopic(Topic):
    """`hub:admin` (registered as `hub:*`; no other `hub:` topic exists). No client events besides join/leave."""

    events = ()
    costs = {"join": 5}
    task = None

    async def join(self, payload):
        if self.suffix != ADMIN_SUFFIX:
            raise UnknownTopic(f"Unknown topic {self.topic!r}.")
        if not is_staff(self.user):
            raise Forbidden("The live view is for staff.")
        data = await live_stats.view()
        self.task = asyncio.ensure_future(self._push_forever())
        return data

    async def leave(self):
        if self.task is not None:
            self.task.cancel()

    async def _push_forever(self):
        task = asyncio.current_task()
        while not task.cancelling():  # redis-py may swallow a cancellation (hub.outbox)
            await asyncio.sleep(PUSH_SECS)
            try:
                if not is_staff(self.user):  # re-read on every rights change (hub.signals)
                    # Through the layer, so the consumer takes the socket out of the topic (then_leave).
                    await apublish([user_group(self.user.pk)], push_message(
                        self.topic, "removed", {"reason": "forbidden"}, then_leave=True))
                    return
                await self.conn.send_push(self.topic, "stats", await live_stats.view())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or the database away for a moment: try again at the next tick
                logger.warning("live view: could not read or send the stats: %s", exc)

"""Scheduled announcements (announce(..., publish_at=...)) go out at their time: one server process a second
looks for the due ones (hub.periodic) and publishes each once (services.announcements_publish_due)."""

from channels.db import database_sync_to_async

from hub.periodic import Periodic
from notifications import services

SCHEDULER_SECS = 1.0


async def publish_due():
    return await database_sync_to_async(services.announcements_publish_due)()


scheduler = Periodic("announcement-scheduler", publish_due, SCHEDULER_SECS)

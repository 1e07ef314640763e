"""Scheduled announcements (announce(..., publish_at=...)) go out at their time: one server process a second
looks for the due ones (hub.periodic) and publishes each once (services.announcements_publish_due).
Missed notifications are emailed the same way, one process every EMAIL_CHECK_SECS (notifications.emails)."""

from channels.db import database_sync_to_async

from hub.periodic import Periodic
from notifications import app_settings, emails, services

SCHEDULER_SECS = 1.0


async def publish_due():
    return await database_sync_to_async(services.announcements_publish_due)()


scheduler = Periodic("announcement-scheduler", publish_due, SCHEDULER_SECS)


async def email_due():
    return await database_sync_to_async(emails.emails_send_due)()


emailer = Periodic("email-digest", email_due, app_settings.EMAIL_CHECK_SECS)

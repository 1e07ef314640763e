"""manage.py hub_send_emails: one round of the missed-notification digests, for cron (the server processes
also send them, every 30 s; running both is safe: each notification is claimed before it is emailed)."""

from django.core.management.base import BaseCommand

from notifications import app_settings
from notifications.emails import emails_send_due


class Command(BaseCommand):
    help = "Email each person who was away a digest of the notifications they missed (HUB_EMAIL_AFTER)."

    def handle(self, *args, **options):
        if not app_settings.EMAIL_AFTER:
            self.stdout.write("HUB_EMAIL_AFTER is 0: notification emails are off.")
            return
        sent = emails_send_due()
        self.stdout.write(f"Sent {sent} digest email{'' if sent == 1 else 's'}.")

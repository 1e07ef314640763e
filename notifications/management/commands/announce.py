"""manage.py announce --title T --body B [--level L] [--expires-in 2h]"""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hub.errors import HubError
from notifications import app_settings
from notifications.services import announce

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text):
    """'90s', '30m', '2h', '1d', '1w' -> timedelta; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([smhdw])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"bad duration {text!r}: use a positive number and a unit, like 30m, 2h or 1d")
    duration = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if duration > app_settings.MAX_ANNOUNCEMENT_LIFETIME:
        raise ValueError(f"bad duration {text!r}: at most 100 years; leave --expires-in out for no expiry")
    return duration


class Command(BaseCommand):
    help = "Publish a site-wide announcement (shown live as a banner on every open page)."

    def add_arguments(self, parser):
        parser.add_argument("--title", required=True)
        parser.add_argument("--body", required=True)
        parser.add_argument("--level", default="info", choices=app_settings.ANNOUNCEMENT_LEVELS)
        parser.add_argument("--expires-in", default=None, help="e.g. 30m, 2h, 1d (default: never)")

    def handle(self, *args, title, body, level, expires_in, **options):
        try:
            expires_at = timezone.now() + parse_duration(expires_in) if expires_in else None
            announcement = announce(title, body, level=level, expires_at=expires_at)
        except (HubError, ValueError) as exc:  # a bad duration is a ValueError of its own
            raise CommandError(f"{exc}; nothing was published")
        self.stdout.write(f"Published announcement {announcement.pk}.")

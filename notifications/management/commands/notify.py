"""manage.py notify USERNAME... --verb TEXT [--level L] [--url U]"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from notifications.models import NOTIFICATION_LEVELS
from notifications.services import notify


class Command(BaseCommand):
    help = "Send a notification to users (stored, and pushed live to their open pages)."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+", metavar="USERNAME")
        parser.add_argument("--verb", required=True, help="what happened, e.g. 'Your export is ready'")
        parser.add_argument("--level", default="info", choices=NOTIFICATION_LEVELS)
        parser.add_argument("--url", default=None, help="where the notification links to")

    def handle(self, *args, usernames, verb, level, url, **options):
        users = list(get_user_model().objects.filter(username__in=usernames))
        unknown = sorted(set(usernames) - {user.username for user in users})
        if unknown:
            raise CommandError(f"unknown user(s): {', '.join(unknown)}; nothing was sent")
        try:
            created = notify(users, verb, level=level, url=url)
        except (TypeError, ValueError) as exc:
            raise CommandError(f"{exc}; nothing was sent")
        self.stdout.write(f"Sent {len(created)} notification(s).")

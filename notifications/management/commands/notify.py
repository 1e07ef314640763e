"""manage.py notify USERNAME... --verb TEXT [--level L] [--url U]"""

from django.core.management.base import BaseCommand, CommandError

from hub.errors import HubError
from hub.users import unknown_usernames, users_by_username
from notifications import app_settings
from notifications.services import notify


class Command(BaseCommand):
    help = "Send a notification to users (stored, and pushed live to their open pages)."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+", metavar="USERNAME")
        parser.add_argument("--verb", required=True, help="what happened, e.g. 'Your export is ready'")
        parser.add_argument("--level", default="info", choices=app_settings.NOTIFICATION_LEVELS)
        parser.add_argument("--url", default=None, help="where the notification links to")

    def handle(self, *args, usernames, verb, level, url, **options):
        users = users_by_username(usernames=usernames)
        unknown = unknown_usernames(usernames, users)
        if unknown:
            raise CommandError(f"unknown or inactive user(s): {', '.join(unknown)}; nothing was sent")
        try:
            created = notify(users, verb, level=level, url=url)
        except HubError as error:
            raise CommandError(f"{error.message}; nothing was sent")
        self.stdout.write(f"Sent {len(created)} notification(s).")

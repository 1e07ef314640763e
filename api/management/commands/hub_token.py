"""manage.py hub_token create NAME --scope S... | list | revoke NAME"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api import app_settings, services
from api.models import ApiToken
from hub.errors import HubError


class Command(BaseCommand):
    help = "Create, list and revoke tokens of the HTTP API (docs/http-api.md)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token; it is printed alone on the last line, once")
        create.add_argument("name")
        create.add_argument("--scope", action="extend", nargs="+", required=True, choices=app_settings.SCOPES,
                            help="notify, announce or events: --scope notify --scope events, or --scope notify events")
        actions.add_parser("list", help="every token: name, first characters, scopes, last use, revoked")
        revoke = actions.add_parser("revoke", help="revoke a token: it answers 401 from now on")
        revoke.add_argument("name")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except HubError as error:
            raise CommandError(error.message)

    def _create(self, *, name, scope, **options):
        token, secret = services.token_create(name=name, scopes=scope)
        self.stdout.write(f"Created token {token.name!r} with scopes {', '.join(token.scopes)}. "
                          "Keep it now: it is not shown again.")
        self.stdout.write(secret)  # alone on the last line, for scripts: TOKEN=$(... | tail -n 1)

    def _list(self, **options):
        for token in ApiToken.objects.all():
            used = (timezone.localtime(token.last_used_at).isoformat(timespec="seconds") if token.last_used_at
                    else "never")
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            self.stdout.write(f"{token.name}\t{token.prefix}…\t{','.join(token.scopes)}\tlast used {used}\t{state}")

    def _revoke(self, *, name, **options):
        if services.token_revoke(name=name):
            self.stdout.write(f"Revoked token {name!r}.")
        else:
            self.stdout.write(f"Token {name!r} was revoked already.")

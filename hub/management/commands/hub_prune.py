"""manage.py hub_prune [--dry-run] [--batch-size N]: delete or blank what is past its retention (for cron)."""

from django.core.management.base import BaseCommand

from hub import app_settings, retention


def positive_int(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = ("Delete read notifications older than HUB_NOTIFICATION_RETENTION_DAYS and blank the bodies of "
            "messages deleted more than HUB_DELETED_BODY_RETENTION_DAYS ago (and whatever else apps "
            "registered), in short batches: safe to run from cron while the server runs.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count what would go; change nothing")
        parser.add_argument("--batch-size", type=positive_int, default=app_settings.PRUNE_BATCH_SIZE,
                            help=f"rows per transaction (default {app_settings.PRUNE_BATCH_SIZE})")

    def handle(self, *args, dry_run, batch_size, **options):
        results = retention.prune(dry_run=dry_run, batch_size=batch_size)
        if results is None:
            self.stdout.write("Another hub_prune is running; nothing done.")
            return
        for pruner, count in results:
            self.stdout.write(f"{pruner.name}: {count} {pruner.what()} {'would be ' if dry_run else ''}{pruner.done}")

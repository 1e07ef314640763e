"""Presence reads that need the database: when users were last seen, who chose to appear offline."""

from presence.models import AppearOffline, LastSeen


def last_seen_map(*, user_ids):
    """{user id: datetime} from the database (survives a Redis restart)."""
    return dict(LastSeen.objects.filter(user_id__in=user_ids).values_list("user_id", "at"))


def appears_offline(*, user):
    return AppearOffline.objects.filter(user=user).exists()

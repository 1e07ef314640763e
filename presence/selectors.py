"""Presence reads that need the database: when users were last seen."""

from presence.models import LastSeen


def last_seen_map(*, user_ids):
    """{user id: datetime} from the database (survives a Redis restart)."""
    return dict(LastSeen.objects.filter(user_id__in=user_ids).values_list("user_id", "at"))

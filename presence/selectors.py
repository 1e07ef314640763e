"""Presence reads that need the database: users by name, last seen."""

from django.contrib.auth import get_user_model

from presence.models import LastSeen


def users_by_username(*, usernames):
    return list(get_user_model().objects.filter(username__in=usernames, is_active=True))


def last_seen_map(*, user_ids):
    """{user id: datetime} from the database (survives a Redis restart)."""
    return dict(LastSeen.objects.filter(user_id__in=user_ids).values_list("user_id", "at"))

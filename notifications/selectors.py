"""Reads: a user's notifications and the announcements they should see."""

from django.db.models import Count, Q
from django.utils import timezone

from notifications.models import Announcement, Notification

SINCE_LIMIT = 500
JOIN_NEWEST = 20


def _base(user):
    return Notification.objects.filter(recipient=user).select_related("actor", "target_content_type")


def notification_unread_count(*, user):
    return Notification.objects.filter(recipient=user, unread=True).count()


def notification_unread_counts(*, user_ids):
    """{user id: unread} for many users in one query."""
    rows = (Notification.objects.filter(recipient_id__in=user_ids, unread=True)
            .values("recipient_id").annotate(n=Count("id")))
    counts = {uid: 0 for uid in user_ids}
    counts.update({row["recipient_id"]: row["n"] for row in rows})
    return counts


def notifications_since(*, user, since):
    """Up to SINCE_LIMIT notifications after id `since`, oldest first, and whether there were more."""
    rows = list(_base(user).filter(id__gt=since).order_by("id")[: SINCE_LIMIT + 1])
    return rows[:SINCE_LIMIT], len(rows) > SINCE_LIMIT


def notifications_newest(*, user, before=None, limit=None):
    limit = limit or JOIN_NEWEST
    rows = _base(user)
    if before is not None:
        rows = rows.filter(id__lt=before)
    return list(rows.order_by("-id")[:limit])


ANNOUNCEMENTS_SHOWN = 100


def announcements_active(*, user):
    """The newest 100 announcements not expired and not dismissed by `user`, oldest first.

    A client resuming with `since` gets the same set: it holds every active newer one.
    """
    now = timezone.now()
    rows = (Announcement.objects.select_related("author")
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .exclude(dismissals__user=user))
    return list(reversed(rows.order_by("-id")[:ANNOUNCEMENTS_SHOWN]))


def announcement_is_active(*, announcement_id):
    now = timezone.now()
    return Announcement.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), pk=announcement_id).exists()


def notification_list(*, user):
    """Every notification of `user`, newest first, for the paginated page (a lazy queryset)."""
    return _base(user).order_by("-id")

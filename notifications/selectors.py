"""Reads: a user's notifications and the announcements they should see."""

from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from hub.paging import rows_after, rows_before
from notifications import app_settings
from notifications.models import Announcement, Notification


def _base(user):
    return Notification.objects.filter(recipient=user).select_related("actor", "target_content_type")


def attach_actors(notifications):
    """Load the latest actors of grouped notifications in one query (notification_dict reads `shown_actors`)."""
    from django.contrib.auth import get_user_model

    shown = app_settings.GROUP_ACTORS_SHOWN
    wanted = {i for n in notifications if n.count > 1 for i in n.actor_ids[:shown]}
    users = get_user_model().objects.in_bulk(wanted) if wanted else {}
    for n in notifications:
        if n.count > 1:
            n.shown_actors = [users[i] for i in n.actor_ids[:shown] if i in users]
    return notifications


def notification_unread_count(*, user):
    return Notification.objects.filter(recipient=user, unread=True).count()


def notification_unread_counts(*, user_ids):
    """{user id: unread} for many users in one query."""
    rows = (Notification.objects.filter(recipient_id__in=user_ids, unread=True)
            .values("recipient_id").annotate(n=Count("id")))
    counts = {uid: 0 for uid in user_ids}
    counts.update({row["recipient_id"]: row["n"] for row in rows})
    return counts


def notifications_prunable(*, created_before):
    """Read notifications created before that time: what `notification_prune` deletes."""
    return Notification.objects.filter(unread=False, created_at__lt=created_before)


def notifications_since(*, user, since):
    """Up to SINCE_LIMIT notifications after id `since`, oldest first, and whether there were more."""
    return rows_after(_base(user), since=since, limit=app_settings.SINCE_LIMIT)


def notifications_since_seq(*, user, since_seq):
    """Up to SINCE_LIMIT notifications after stream position `since_seq`, in position (commit) order, and `more`."""
    return rows_after(_base(user), since=since_seq, limit=app_settings.SINCE_LIMIT, field="seq")


def notification_unread_ids_up_to(*, user, up_to_seq):
    """Ids of the user's unread notifications at or before position `up_to_seq` (at most SINCE_LIMIT, the
    newest), and `more`: a resuming client marks read those it has that are not among them."""
    ids = list(_base(user).filter(unread=True, seq__lte=up_to_seq).order_by("-seq")
               .values_list("id", flat=True)[:app_settings.SINCE_LIMIT + 1])
    return sorted(ids[:app_settings.SINCE_LIMIT]), len(ids) > app_settings.SINCE_LIMIT


def notifications_newest(*, user, before=None, limit=None):
    """The `limit` (default JOIN_NEWEST) notifications before id `before` (or the newest), newest first."""
    return rows_before(_base(user), before=before, limit=limit or app_settings.JOIN_NEWEST)[0]


def announcements_active(*, user):
    """The newest 100 announcements not expired and not dismissed by `user`, oldest first.

    A client resuming with `since` gets the same set: it holds every active newer one.
    """
    now = timezone.now()
    rows = (Announcement.objects.select_related("author", "audience_group")
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), _audience_of(user), published=True,
                    withdrawn_at__isnull=True)
            .exclude(dismissals__user=user))
    return list(reversed(rows.order_by("-id")[:app_settings.ANNOUNCEMENTS_SHOWN]))


# When an announcement went out: created now, or at publish_at (a scheduled one; one backdated counts from its creation).
_PUBLISHED_TIME = Greatest("created_at", Coalesce("publish_at", "created_at"))


def announcements_published_between(*, user, after, until):
    """The announcements of `user`'s audience published in (after, until], still shown (not withdrawn, expired
    or dismissed), oldest first: what an email digest tells someone who was away. "online" ones never."""
    now = timezone.now()
    return list(Announcement.objects.annotate(published_time=_PUBLISHED_TIME)
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), _audience_of(user), published=True,
                        withdrawn_at__isnull=True, published_time__gt=after, published_time__lte=until)
                .exclude(dismissals__user=user).order_by("published_time", "id")[:app_settings.ANNOUNCEMENTS_SHOWN])


def announcements_published_after(*, after, until):
    """Whether any announcement listed on joins was published in (after, until]."""
    return (Announcement.objects.alias(published_time=_PUBLISHED_TIME)
            .filter(published=True, published_time__gt=after, published_time__lte=until).exclude(audience="online")
            .exists())


def _audience_of(user):
    """The announcements `user` is in the audience of, as listed on a join ("online" ones never are)."""
    audience = Q(audience="all") | Q(audience="group", audience_group__in=user.groups.all())
    return audience | Q(audience="staff") if user.is_staff else audience


def in_audience(*, user, audience, group_name):
    """Whether a pushed announcement's audience takes in `user` (the socket's filter)."""
    if audience in ("all", "online"):
        return True
    if audience == "staff":
        return user.is_staff
    return audience == "group" and user.groups.filter(name=group_name).exists()


def announcement_is_active(*, announcement_id):
    now = timezone.now()
    return Announcement.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), pk=announcement_id,
                                       withdrawn_at__isnull=True).exists()


def notification_list(*, user):
    """Every notification of `user`, newest first, for the paginated page (a lazy queryset)."""
    return _base(user).order_by("-id")

"""Writes: notify, announce, mark read, dismiss. Every live push is sent after commit."""

import json
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from hub.push import group_send_many, push_message, send_batch, send_on_commit, send_to_users, topic_group
from notifications import selectors
from notifications.models import (
    ANNOUNCEMENT_LEVELS, NOTIFICATION_LEVELS, URL_MAX_LENGTH, VERB_MAX_LENGTH, Announcement,
    AnnouncementDismissal, Notification, validate_notification_url,
)
from notifications.serializers import announcement_dict, notification_dict

NOTIFICATIONS_TOPIC = "notifications"
ANNOUNCEMENTS_TOPIC = "announcements"
READ_IDS_MAX = 500


def _recipients(recipient):
    """A user, a Group, or an iterable/queryset of users -> a list of distinct saved users."""
    User = get_user_model()
    if isinstance(recipient, User):
        users = [recipient]
    elif isinstance(recipient, Group):
        users = list(recipient.user_set.all())
    elif isinstance(recipient, (str, bytes, dict)) or not hasattr(recipient, "__iter__"):
        raise TypeError("recipient must be a user, a Group, or an iterable or queryset of users")
    else:
        users = list(recipient)
        if not all(isinstance(user, User) for user in users):
            raise TypeError("every recipient must be a user")
    if any(user.pk is None for user in users):
        raise ValueError("recipients must be saved users")
    return list({user.pk: user for user in users}.values())


def _check_notification_args(verb, actor, target, level, data, url):
    if not isinstance(verb, str) or not verb.strip():
        raise ValueError("verb must be a non-empty string")
    if len(verb) > VERB_MAX_LENGTH:
        raise ValueError(f"verb is longer than {VERB_MAX_LENGTH} characters")
    if level not in NOTIFICATION_LEVELS:
        raise ValueError(f"level must be one of {', '.join(NOTIFICATION_LEVELS)}, not {level!r}")
    if data is not None:
        if not isinstance(data, dict):
            raise TypeError("data must be a dict (a JSON object)")
        json.dumps(data, allow_nan=False)  # TypeError / ValueError for what JSON cannot hold
    if url is not None:
        if not isinstance(url, str) or len(url) > URL_MAX_LENGTH:
            raise ValueError(f"url must be a string of at most {URL_MAX_LENGTH} characters")
        try:
            validate_notification_url(url)
        except ValidationError:
            raise ValueError("url must be a path on this site (/...) or an http(s):// URL, without spaces")
    if actor is not None and (not isinstance(actor, get_user_model()) or actor.pk is None):
        raise TypeError("actor must be a saved user")
    if target is not None and (not isinstance(target, models.Model) or target.pk is None):
        raise TypeError("target must be a saved model instance")


def notify(recipient, verb, *, actor=None, target=None, level="info", data=None, url=None):
    """Create one notification per recipient in one insert; push each live after commit."""
    _check_notification_args(verb, actor, target, level, data, url)
    users = _recipients(recipient)
    if not users:
        return []
    target_fields = {}
    if target is not None:
        target_fields = {"target_content_type": ContentType.objects.get_for_model(target),
                         "target_object_id": str(target.pk), "target_repr": str(target)[:200]}
    now = timezone.now()
    rows = [
        Notification(recipient=user, actor=actor, verb=verb.strip(), level=level, data=data or {}, url=url,
                     created_at=now, **target_fields)
        for user in users
    ]
    with transaction.atomic():
        created = Notification.objects.bulk_create(rows)
        # PostgreSQL and SQLite >= 3.35 return the new ids (RETURNING); the pushes need them.
        if any(n.pk is None for n in created):
            raise RuntimeError("the database did not return the ids of the new notifications")
        send_on_commit(_push_new, created)
    return created


async def anotify(recipient, verb, **kwargs):
    """notify() for async code: the write runs in Django's sync thread, the push after commit."""
    from channels.db import database_sync_to_async

    return await database_sync_to_async(notify)(recipient, verb, **kwargs)


def _push_new(notifications):
    counts = selectors.notification_unread_counts(user_ids=[n.recipient_id for n in notifications])
    send_batch(
        (n.recipient_id, NOTIFICATIONS_TOPIC, "new",
         {"notification": notification_dict(n), "unread": counts[n.recipient_id]})
        for n in notifications
    )


def notification_mark_read(*, user, ids):
    """Mark the user's own notifications read; other users' ids are ignored (and not revealed)."""
    ids = [i for i in ids if isinstance(i, int)][:READ_IDS_MAX]
    with transaction.atomic():
        changed = list(Notification.objects.filter(recipient=user, id__in=ids, unread=True)
                       .values_list("id", flat=True))
        Notification.objects.filter(id__in=changed).update(unread=False)
        unread = selectors.notification_unread_count(user=user)
        send_on_commit(send_to_users, [user.pk], NOTIFICATIONS_TOPIC, "unread",
                       {"unread": unread, "read_ids": sorted(changed)})
    return unread, sorted(changed)


def notification_mark_all_read(*, user):
    with transaction.atomic():
        Notification.objects.filter(recipient=user, unread=True).update(unread=False)
        send_on_commit(send_to_users, [user.pk], NOTIFICATIONS_TOPIC, "unread", {"unread": 0, "read_ids": "all"})
    return 0


# Far enough for any real announcement, near enough that date arithmetic cannot overflow.
MAX_ANNOUNCEMENT_LIFETIME = timedelta(days=36525)


def _check_announcement_args(title, body, level, expires_at):
    for name, value, limit in (("title", title, 200), ("body", body, 5000)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string")
        if len(value) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    if level not in ANNOUNCEMENT_LEVELS:
        raise ValueError(f"level must be one of {', '.join(ANNOUNCEMENT_LEVELS)}, not {level!r}")
    if expires_at is not None:
        if not isinstance(expires_at, datetime) or timezone.is_naive(expires_at):
            raise ValueError("expires_at must be a timezone-aware datetime")
        now = timezone.now()
        if expires_at <= now:
            raise ValueError("expires_at is in the past")
        if expires_at - now > MAX_ANNOUNCEMENT_LIFETIME:
            raise ValueError("expires_at is more than 100 years away; leave it out for no expiry")


def announce(title, body, *, level="info", expires_at=None, author=None):
    """Create an announcement and push it to everyone connected, after commit."""
    _check_announcement_args(title, body, level, expires_at)
    if author is not None and (not isinstance(author, get_user_model()) or author.pk is None):
        raise TypeError("author must be a saved user")
    with transaction.atomic():
        announcement = Announcement.objects.create(
            title=title.strip(), body=body.strip(), level=level, expires_at=expires_at, author=author)
        announcement_publish(announcement)
    return announcement


def announcement_publish(announcement):
    """Schedule the live push of a saved announcement (announce() and the admin both use this)."""
    send_on_commit(group_send_many, [topic_group(ANNOUNCEMENTS_TOPIC)],
                   push_message(ANNOUNCEMENTS_TOPIC, "new", {"announcement": announcement_dict(announcement)}))


def announcement_dismiss(*, user, announcement_id):
    """Hide an announcement for this user; their sockets hear of it. False if no such active one."""
    if not selectors.announcement_is_active(announcement_id=announcement_id):
        return False
    with transaction.atomic():
        AnnouncementDismissal.objects.get_or_create(announcement_id=announcement_id, user=user)
        send_on_commit(send_to_users, [user.pk], ANNOUNCEMENTS_TOPIC, "dismissed", {"id": announcement_id})
    return True

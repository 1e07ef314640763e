"""Writes: notify, announce (and staff edits), mark read, dismiss. Every live push is sent after commit.

The socket handlers, the views, the admin and the management commands all call these.
Bad input raises hub.errors.BadRequest (also a ValueError); a TypeError means the calling
code passed the wrong kind of object.
"""

import json
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from hub.errors import BadRequest, Forbidden
from hub.outbox import rebuildable
from hub.push import push_each, push_to_topic, push_to_users
from hub.retention import prune_in_batches
from notifications import app_settings, kinds, preferences, selectors
from notifications.models import (Announcement, AnnouncementDismissal, Notification, take_seqs,
                                  validate_notification_url)
from notifications.serializers import announcement_dict, notification_dict

NOTIFICATIONS_TOPIC = "notifications"
ANNOUNCEMENTS_TOPIC = "announcements"


# --- notifications


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
        raise TypeError("recipients must be saved users")
    return list({user.pk: user for user in users}.values())


def _check_saved(value, kind, name):
    if value is not None and (not isinstance(value, kind) or value.pk is None):
        raise TypeError(f"{name} must be a saved {'user' if kind is get_user_model() else 'model instance'}")


def _check_key(value, name, limit):
    """An optional key (group_key, an announcement's key): None, or BadRequest unless a non-empty string of at
    most `limit` characters."""
    if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > limit):
        raise BadRequest(f"{name} must be a non-empty string of at most {limit} characters")


def _check_aware(value, name):
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise BadRequest(f"{name} must be a timezone-aware datetime")


def notification_check(*, verb, level, data, url):
    """BadRequest naming the first of these a notification cannot have; TypeError for a non-dict `data`."""
    if not isinstance(verb, str) or not verb.strip():
        raise BadRequest("verb must be a non-empty string")
    if len(verb) > app_settings.VERB_MAX_LENGTH:
        raise BadRequest(f"verb is longer than {app_settings.VERB_MAX_LENGTH} characters")
    if level not in app_settings.NOTIFICATION_LEVELS:
        raise BadRequest(f"level must be one of {', '.join(app_settings.NOTIFICATION_LEVELS)}, not {level!r}")
    if data is not None:
        if not isinstance(data, dict):
            raise TypeError("data must be a dict (a JSON object)")
        try:
            json.dumps(data, allow_nan=False)  # TypeError for objects JSON cannot hold
        except ValueError:
            raise BadRequest("data holds NaN or Infinity, which JSON cannot")
    if url is not None:
        if not isinstance(url, str) or len(url) > app_settings.URL_MAX_LENGTH:
            raise BadRequest(f"url must be a string of at most {app_settings.URL_MAX_LENGTH} characters")
        try:
            validate_notification_url(url)
        except ValidationError:
            raise BadRequest("url must be a path on this site (/...) or an http(s):// URL, without spaces")


def notify(recipient, verb, *, actor=None, target=None, level="info", data=None, url=None, group_key=None,
           kind=None):
    """Create one notification per recipient in one insert; push each live after commit.

    `kind` (registered with notifications.register_kind; default "notifications.other"): recipients who
    turned that kind off get nothing.

    With `group_key`, a recipient who has an unread notification of that key gets it updated instead
    (the new verb, level, data, url and target; one more in `count`; the actor added to its actors;
    a new stream position) and pushed as `updated`: "alice, bob and 3 others commented on ...".
    Returns the notifications created or updated.
    """
    notification_check(verb=verb, level=level, data=data, url=url)
    _check_key(group_key, "group_key", app_settings.GROUP_KEY_MAX_LENGTH)
    _check_saved(actor, get_user_model(), "actor")
    _check_saved(target, models.Model, "target")
    kind = kinds.get_kind(kinds.DEFAULT_KIND if kind is None else kind)
    users = _recipients(recipient)
    if users:
        wanted = preferences.deliveries_for(user_ids=[user.pk for user in users], kind=kind)
        users = [user for user in users if wanted[user.pk] != "off"]
    if not users:
        return []
    target_fields = {}
    if target is not None:
        target_fields = {"target_content_type": ContentType.objects.get_for_model(target),
                         "target_object_id": str(target.pk),
                         "target_repr": str(target)[:app_settings.TARGET_REPR_MAX_LENGTH]}
    now = timezone.now()
    fields = dict(actor=actor, verb=verb.strip(), level=level, data=data or {}, url=url, created_at=now, kind=kind.name,
                  **({"target_content_type": None, "target_object_id": "", "target_repr": ""} | target_fields))
    with transaction.atomic():
        grouped = _grouped(users, group_key, fields) if group_key else []
        taken = {n.recipient_id for n in grouped}
        rows = [Notification(recipient=user, group_key=group_key or "", actor_ids=[actor.pk] if actor else [],
                             **fields) for user in users if user.pk not in taken]
        seqs = take_seqs([user.pk for user in users])  # one statement for every recipient
        for row in [*rows, *grouped]:
            row.seq = seqs[row.recipient_id][0]
        if grouped:
            Notification.objects.bulk_update(grouped, ["seq", "count", "actor_ids", "email_checked",
                                                       *GROUPED_FIELDS])
        created = Notification.objects.bulk_create(rows)
        # PostgreSQL and SQLite >= 3.35 return the new ids (RETURNING); the pushes need them.
        if any(n.pk is None for n in created):
            raise RuntimeError("the database did not return the ids of the new notifications")
        changed = sorted([*created, *grouped], key=lambda n: n.recipient_id)
        push_each(lambda: _new_pushes(changed),
                  rebuild=("notifications.services.new_pushes_rebuilt", [n.pk for n in changed]))
    return changed


# What a grouped notification takes from the latest of its notifications.
GROUPED_FIELDS = ("kind", "actor", "verb", "level", "data", "url", "created_at", "target_content_type", "target_object_id",
                  "target_repr")


def _grouped(users, group_key, fields):
    """The unread notifications of `group_key` of these users (the newest per user, locked), updated in
    memory with one more notification: the caller gives them new positions and saves them."""
    latest = {}
    for n in (Notification.objects.select_for_update().filter(
            recipient__in=[user.pk for user in users], group_key=group_key, unread=True).order_by("id")):
        latest[n.recipient_id] = n
    actor = fields["actor"]
    for n in latest.values():
        for name in GROUPED_FIELDS:
            setattr(n, name, fields[name])
        n.count += 1
        n.email_checked = False  # news since a digest told of it: the next one may tell of it again
        if actor is not None:
            n.actor_ids = [actor.pk, *(i for i in n.actor_ids if i != actor.pk)][:app_settings.GROUP_ACTORS_MAX]
    return list(latest.values())


def _new_pushes(created):
    """One `new` per recipient with their own unread count, all counted in one query, after the commit:
    counted before it, two notify() calls committing at once would both push the same count."""
    counts = selectors.notification_unread_counts(user_ids=[n.recipient_id for n in created])
    selectors.attach_actors(created)
    return [(n.recipient_id, NOTIFICATIONS_TOPIC, "new" if n.count == 1 else "updated",
             {"notification": notification_dict(n), "unread": counts[n.recipient_id]}) for n in created]


@rebuildable
def new_pushes_rebuilt(ids):
    """_new_pushes() for the outbox relay, from the notifications' ids (those deleted meanwhile are skipped)."""
    return _new_pushes(list(Notification.objects.filter(id__in=ids).select_related("actor", "target_content_type")
                            .order_by("id")))


async def anotify(recipient, verb, **kwargs):
    """notify() for async code: the write runs in Django's sync thread, the push after commit."""
    from channels.db import database_sync_to_async

    return await database_sync_to_async(notify)(recipient, verb, **kwargs)


def notification_mark_read(*, user, ids):
    """Mark the user's own notifications read; other users' ids are ignored (and not revealed)."""
    ids = [i for i in ids if isinstance(i, int)][:app_settings.READ_IDS_MAX]
    with transaction.atomic():
        changed = sorted(Notification.objects.filter(recipient=user, id__in=ids, unread=True)
                         .values_list("id", flat=True))
        Notification.objects.filter(id__in=changed).update(unread=False)
        unread = selectors.notification_unread_count(user=user)
        push_to_users([user.pk], NOTIFICATIONS_TOPIC, "unread", {"unread": unread, "read_ids": changed})
    return unread, changed


def notification_mark_all_read(*, user):
    with transaction.atomic():
        Notification.objects.filter(recipient=user, unread=True).update(unread=False)
        push_to_users([user.pk], NOTIFICATIONS_TOPIC, "unread", {"unread": 0, "read_ids": "all"})
    return 0


def notification_prune(*, now, dry_run=False, batch_size):
    """Delete read notifications older than NOTIFICATION_RETENTION_DAYS, batch by batch; unread ones stay.

    Returns how many were deleted (with `dry_run`, how many would be, and nothing changes).
    Nobody is pushed anything: a client shows only the newest ones and resumes after ids it has.
    """
    stale = selectors.notifications_prunable(
        created_before=now - timedelta(days=app_settings.NOTIFICATION_RETENTION_DAYS))
    if dry_run:
        return stale.count()
    return prune_in_batches(stale, batch_size=batch_size, apply=lambda rows: rows.delete()[0])


# --- announcements


def announcement_check(*, title, body, level, expires_at, new=True):
    """BadRequest naming the first of these an announcement cannot have.

    A past `expires_at` is refused for a new announcement (it would never be shown); on an
    existing one it is how staff take it down now.
    """
    for name, value, limit in (("title", title, app_settings.TITLE_MAX_LENGTH),
                               ("body", body, app_settings.BODY_MAX_LENGTH)):
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"{name} must be a non-empty string")
        if len(value) > limit:
            raise BadRequest(f"{name} is longer than {limit} characters")
    if level not in app_settings.ANNOUNCEMENT_LEVELS:
        raise BadRequest(f"level must be one of {', '.join(app_settings.ANNOUNCEMENT_LEVELS)}, not {level!r}")
    if expires_at is None:
        return
    _check_aware(expires_at, "expires_at")
    now = timezone.now()
    if new and expires_at <= now:
        raise BadRequest("expires_at is in the past")
    if expires_at - now > app_settings.MAX_ANNOUNCEMENT_LIFETIME:
        raise BadRequest("expires_at is more than 100 years away; leave it out for no expiry")


def _audience(audience):
    """("all" | "staff" | "online" | "group", the Group or None) from announce()'s `audience`."""
    if isinstance(audience, Group):
        if audience.pk is None:
            raise TypeError("audience must be a saved Group")
        return "group", audience
    if audience not in ("all", "staff", "online"):
        raise BadRequest(f"audience must be 'all', 'staff', 'online' or a Group, not {audience!r}")
    return audience, None


def announce(title, body, *, level="info", expires_at=None, author=None, audience="all", publish_at=None, key=None):
    """Create an announcement and push it to its audience, after the commit (or at `publish_at`, once).

    audience: "all", "staff", "online" (only those connected now: never listed on a later join), or a
    Group (its members). key: an announcement with this key already made is returned as it is, so a
    deploy script may announce on every run.
    """
    announcement_check(title=title, body=body, level=level, expires_at=expires_at)
    _check_saved(author, get_user_model(), "author")
    audience, group = _audience(audience)
    _check_key(key, "key", app_settings.ANNOUNCEMENT_KEY_MAX_LENGTH)
    if publish_at is not None:
        _check_aware(publish_at, "publish_at")
        if expires_at is not None and expires_at <= publish_at:
            raise BadRequest("expires_at is before publish_at: it would never be shown")
    scheduled = publish_at is not None and publish_at > timezone.now()
    if key is not None and (existing := Announcement.objects.filter(key=key).first()) is not None:
        return existing
    try:
        with transaction.atomic():
            announcement = Announcement.objects.create(
                title=title.strip(), body=body.strip(), level=level, expires_at=expires_at, author=author,
                audience=audience, audience_group=group, publish_at=publish_at, published=not scheduled, key=key)
            if not scheduled:
                push_to_topic(ANNOUNCEMENTS_TOPIC, "new", {"announcement": announcement_dict(announcement)})
    except IntegrityError:
        if key is None:
            raise
        return Announcement.objects.get(key=key)  # the same key, announced at the same moment elsewhere
    return announcement


def announcements_publish_due(*, now=None):
    """Publish the scheduled announcements whose time has come (each once, whoever runs it): their ids."""
    published = []
    due = Announcement.objects.filter(published=False, publish_at__lte=now or timezone.now()).order_by("publish_at", "id")
    for announcement in due.select_related("author", "audience_group")[:100]:
        with transaction.atomic():
            if not Announcement.objects.filter(pk=announcement.pk, published=False).update(published=True):
                continue  # another process published it first
            announcement.published = True
            push_to_topic(ANNOUNCEMENTS_TOPIC, "new", {"announcement": announcement_dict(announcement)})
        published.append(announcement.pk)
    return published


def announcement_publish(*, user, title, body, level="info", expires_at=None, audience="all", publish_at=None):
    """A user publishes an announcement (the socket's `publish`): they need notifications.add_announcement,
    checked now, not when their socket connected (superusers have every permission)."""
    if not user.has_perm("notifications.add_announcement"):
        raise Forbidden("Publishing announcements needs the right to add them.")
    return announce(title, body, level=level, expires_at=expires_at, author=user, audience=audience,
                    publish_at=publish_at)


def announcement_update(*, announcement, title, body, level, expires_at):
    """Staff changed an announcement: store it, and open pages replace its banner (push `updated`)."""
    announcement_check(title=title, body=body, level=level, expires_at=expires_at, new=False)
    with transaction.atomic():
        announcement.title, announcement.body = title.strip(), body.strip()
        announcement.level, announcement.expires_at = level, expires_at
        announcement.save(update_fields=["title", "body", "level", "expires_at"])
        if announcement.published:  # a scheduled one is seen first when it is published
            push_to_topic(ANNOUNCEMENTS_TOPIC, "updated", {"announcement": announcement_dict(announcement)})
    return announcement


def announcement_withdraw(*, announcement):
    """Staff withdrew an announcement: open pages take its banner down (push `withdrawn`); the row stays."""
    with transaction.atomic():
        updated = Announcement.objects.filter(pk=announcement.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now())
        if updated:
            push_to_topic(ANNOUNCEMENTS_TOPIC, "withdrawn", {"id": announcement.pk})
    return bool(updated)


def announcement_delete(*, announcement):
    """Staff removed an announcement: open pages take its banner down (push `deleted`)."""
    announcement_id = announcement.pk
    with transaction.atomic():
        announcement.delete()
        push_to_topic(ANNOUNCEMENTS_TOPIC, "deleted", {"id": announcement_id})


def announcement_dismiss(*, user, announcement_id):
    """Hide an announcement for this user; their sockets hear of it. False if no such active one."""
    if not selectors.announcement_is_active(announcement_id=announcement_id):
        return False
    with transaction.atomic():
        AnnouncementDismissal.objects.get_or_create(announcement_id=announcement_id, user=user)
        push_to_users([user.pk], ANNOUNCEMENTS_TOPIC, "dismissed", {"id": announcement_id})
    return True

"""Notifications (one user's), announcements (site-wide) and who dismissed which announcement."""

import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from collections import Counter

from django.db import models, transaction
from django.utils import timezone

from notifications import app_settings, kinds

# A path on this site or an http(s) URL, nothing that is not a plain URL character.
# "//host" and "/\\host" are other sites to a browser, "javascript:" would be script.
SAFE_URL = re.compile(r"(?:/(?![/\\])|https?://)[^\x00-\x20\x7f]*")


def validate_notification_url(value):
    """Clients put a notification's url in an href and navigate to it."""
    if not isinstance(value, str) or not SAFE_URL.fullmatch(value):
        raise ValidationError("A notification url is a path on this site (/...) or an http(s):// URL.")


class NotificationStream(models.Model):
    """A user's last notification position (Notification.seq)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="+")
    last_seq = models.BigIntegerField(default=0)


def take_seqs(user_ids):
    """{user id: range of new positions} for notifications stored in the current transaction, in one statement.

    The upsert locks each recipient's stream row until the transaction ends (SQLite: one writer
    at a time), so positions follow commit order, as Room.take_seqs does for chat. Ids go in
    sorted order, so two notify() calls lock shared recipients in the same order (no deadlock).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("take_seqs() must run inside the transaction that stores the notifications")
    counts = sorted(Counter(user_ids).items())
    table = NotificationStream._meta.db_table
    taken = {}
    with connection.cursor() as cursor:
        for start in range(0, len(counts), 500):  # SQLite's limit on parameters is far above 1,000
            chunk = counts[start:start + 500]
            cursor.execute(
                f"INSERT INTO {table} (user_id, last_seq) VALUES {', '.join(['(%s, %s)'] * len(chunk))} "
                f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + excluded.last_seq "
                "RETURNING user_id, last_seq",
                [value for pair in chunk for value in pair])
            for user_id, last in cursor.fetchall():
                taken[user_id] = range(last - dict(chunk)[user_id] + 1, last + 1)
    return taken


class Notification(models.Model):
    """Something that happened, for one recipient: `actor` `verb` `target`."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    verb = models.CharField(max_length=app_settings.VERB_MAX_LENGTH)
    level = models.CharField(max_length=10, choices=[(v, v) for v in app_settings.NOTIFICATION_LEVELS], default="info")
    target_content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    target_object_id = models.CharField(max_length=64, blank=True, default="")
    target_repr = models.CharField(max_length=app_settings.TARGET_REPR_MAX_LENGTH, blank=True, default="")
    target = GenericForeignKey("target_content_type", "target_object_id")
    data = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=app_settings.URL_MAX_LENGTH, null=True, blank=True,
                           validators=[validate_notification_url])
    unread = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # notify(group_key=...): an unread notification of the recipient with the same key takes in the next
    # ones instead of a new row each: `count` of them, `actor_ids` the distinct actors, the latest first.
    group_key = models.CharField(max_length=app_settings.GROUP_KEY_MAX_LENGTH, blank=True, default="")
    count = models.PositiveIntegerField(default=1)
    actor_ids = models.JSONField(default=list, blank=True)
    # Its position in the recipient's stream, in commit order (take_seqs): what clients resume after.
    seq = models.BigIntegerField(editable=False)
    # notify(kind=...): which of the recipient's preferences it answered to (notifications.kinds).
    kind = models.CharField(max_length=kinds.NAME_MAX_LENGTH, default=kinds.DEFAULT_KIND)
    # The email digest (notifications.emails) decides once per notification, HUB_EMAIL_AFTER after it was
    # made: `email_checked` then, and `emailed_at` if it went out. Never emailed twice.
    email_checked = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "unread"], name="notif_recipient_unread"),
            models.Index(fields=["recipient", "id"], name="notif_recipient_id"),
            models.Index(fields=["recipient", "group_key", "unread"], name="notif_recipient_group"),
            # The email digest's scan: the unread ones not decided yet, oldest first. Partial: read and
            # decided ones (nearly all, in time) are not in it.
            models.Index(fields=["created_at"], condition=models.Q(unread=True, email_checked=False),
                         name="notif_email_pending"),
        ]
        constraints = [models.UniqueConstraint(fields=["recipient", "seq"], name="one_notification_per_position")]

    def __str__(self):
        return f"{self.recipient}: {self.verb}"

    def save(self, *args, **kwargs):
        if self.seq is None:  # a new notification: its position is taken in the transaction that stores it
            with transaction.atomic(savepoint=False):
                self.seq = take_seqs([self.recipient_id])[self.recipient_id][0]
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)


AUDIENCES = ("all", "staff", "online", "group")


class Announcement(models.Model):
    """A site-wide message from staff, shown as a banner until it expires or is dismissed."""

    title = models.CharField(max_length=app_settings.TITLE_MAX_LENGTH)
    body = models.TextField(max_length=app_settings.BODY_MAX_LENGTH)
    level = models.CharField(max_length=10, choices=[(v, v) for v in app_settings.ANNOUNCEMENT_LEVELS], default="info")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Who sees it: everyone, staff, the people connected when it is published (never listed on a later
    # join), or the members of `audience_group`.
    audience = models.CharField(max_length=10, choices=[(a, a) for a in AUDIENCES], default="all")
    audience_group = models.ForeignKey("auth.Group", null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="+")
    # A scheduled one is stored unpublished and published (pushed, then listed) at `publish_at`, once.
    publish_at = models.DateTimeField(null=True, blank=True)
    published = models.BooleanField(default=True)
    # Withdrawn by staff: taken down everywhere at once (push `withdrawn`), kept for the record.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # announce(..., key=...): the same key again returns this one instead of a second announcement.
    key = models.CharField(max_length=app_settings.ANNOUNCEMENT_KEY_MAX_LENGTH, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["expires_at"], name="announcement_expires"),
                   models.Index(fields=["published", "publish_at"], name="announcement_scheduled")]

    def __str__(self):
        return self.title


class AnnouncementDismissal(models.Model):
    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="one_dismissal_per_user")]


class NotificationPreference(models.Model):
    """A person's choice for one kind of notification (notifications.kinds.DELIVERIES); no row: the kind's default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=kinds.NAME_MAX_LENGTH)
    delivery = models.CharField(max_length=10, choices=[(d, kinds.DELIVERY_LABELS[d]) for d in kinds.DELIVERIES])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")]

    def __str__(self):
        return f"{self.user}: {self.kind} {self.delivery}"


class NotificationSettings(models.Model):
    """A person's settings beyond kinds; no row: the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="+")
    # Do not disturb: notifications are stored and counted, but no toasts pop up.
    do_not_disturb = models.BooleanField(default=False)
    # When the last digest email went out (one per HUB_EMAIL_AFTER window at most).
    last_emailed_at = models.DateTimeField(null=True, blank=True)
    # Announcements by email: those published up to this time are decided for this person's digests (set
    # when they choose email, so the ones from before are not sent).
    announcements_decided_until = models.DateTimeField(null=True, blank=True)

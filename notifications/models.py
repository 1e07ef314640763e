"""Notifications (one user's), announcements (site-wide) and who dismissed which announcement."""

import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from notifications import app_settings
# A path on this site or an http(s) URL, nothing that is not a plain URL character.
# "//host" and "/\\host" are other sites to a browser, "javascript:" would be script.
SAFE_URL = re.compile(r"(?:/(?![/\\])|https?://)[^\x00-\x20\x7f]*")


def validate_notification_url(value):
    """Clients put a notification's url in an href and navigate to it."""
    if not isinstance(value, str) or not SAFE_URL.fullmatch(value):
        raise ValidationError("A notification url is a path on this site (/...) or an http(s):// URL.")


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

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "unread"], name="notif_recipient_unread"),
            models.Index(fields=["recipient", "id"], name="notif_recipient_id"),
        ]

    def __str__(self):
        return f"{self.recipient}: {self.verb}"


class Announcement(models.Model):
    """A site-wide message from staff, shown as a banner until it expires or is dismissed."""

    title = models.CharField(max_length=app_settings.TITLE_MAX_LENGTH)
    body = models.TextField(max_length=app_settings.BODY_MAX_LENGTH)
    level = models.CharField(max_length=10, choices=[(v, v) for v in app_settings.ANNOUNCEMENT_LEVELS], default="info")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["expires_at"], name="announcement_expires")]

    def __str__(self):
        return self.title


class AnnouncementDismissal(models.Model):
    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="one_dismissal_per_user")]

"""Presence keeps live state in Redis only; the database keeps when each user was last seen."""

from django.conf import settings
from django.db import models


class LastSeen(models.Model):
    """Written once per site-wide leave (never per heartbeat), so it survives a Redis restart."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="last_seen")
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.user} last seen {self.at:%Y-%m-%d %H:%M}"


class AppearOffline(models.Model):
    """The user chose "appear offline" (/settings/notifications/): their sockets are not tracked where others
    see them (presence.services), while they still see everyone else."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="+")
    since = models.DateTimeField(auto_now_add=True)

"""Rooms (public, private, direct), memberships with read markers, and messages."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from chat import app_settings

ROOM_KINDS = ("public", "private", "direct")


class Room(models.Model):
    slug = models.SlugField(max_length=app_settings.ROOM_SLUG_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=app_settings.ROOM_NAME_MAX_LENGTH)
    kind = models.CharField(max_length=10, choices=[(k, k) for k in ROOM_KINDS], default="public")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # A direct room's two user ids, "<lower>-<higher>": the database keeps one room per pair.
    # Its slug is random, so a slug says nothing of who talks to whom.
    direct_pair = models.CharField(max_length=41, unique=True, null=True, blank=True, editable=False)

    def __str__(self):
        return self.name

    @property
    def topic(self):
        return f"room:{self.slug}"


class Membership(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships")
    last_read_id = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(default=timezone.now)
    # Made by joining a public room, not by being added: such members go if the room turns private.
    by_public_join = models.BooleanField(default=False)
    # A direct room cannot be left; its member can hide it from their lobby until a new message comes.
    hidden = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="one_membership_per_user")]

    def __str__(self):
        return f"{self.user} in {self.room}"


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=app_settings.BODY_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    # Who last changed it, when that was not its author (a moderator); shown on the wire.
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    # When it was deleted: `hub_prune` blanks the body DELETED_BODY_RETENTION_DAYS later (until
    # then staff can still read it in the admin). `edited_at` is set too, as the protocol shows it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    client_id = models.CharField(max_length=app_settings.CLIENT_ID_MAX_LENGTH, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["room", "id"], name="message_room_id")]
        constraints = [
            # A retried send (same client_id) is stored once, even when two retries race.
            models.UniqueConstraint(fields=["room", "author", "client_id"], condition=Q(client_id__isnull=False),
                                    name="one_message_per_client_id"),
        ]

    def __str__(self):
        return f"{self.author}: {self.body[:40]}"

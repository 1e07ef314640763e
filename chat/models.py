"""Rooms (public, private, direct), memberships with read markers, and messages."""

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
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
    # The last stream position handed to a message of this room (Message.seq).
    last_seq = models.BigIntegerField(default=0, editable=False)
    # The last change position handed to an edit or delete in this room (Message.change_seq).
    last_change = models.BigIntegerField(default=0, editable=False)

    def __str__(self):
        return self.name

    def take_seqs(self, count=1):
        """The next `count` stream positions of this room, for messages stored in the current transaction.

        The UPDATE locks the room's row until the transaction ends (PostgreSQL; SQLite has one
        writer at a time), so a second writer waits for the first to commit before it takes its
        positions: positions follow commit order, which ids from a sequence do not. A client that
        saw position N and resumes after it can never miss a message committed later with a
        lower number.
        """
        return self._take("last_seq", count)

    def take_change(self):
        """The next change position of this room, for an edit or delete stored in the current transaction.

        Taken like take_seqs() (under the room's row lock), so a client that resumes with
        `since_change` gets every change committed after the last one it saw.
        """
        return self._take("last_change", 1)[0]

    def _take(self, counter, count):
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            raise RuntimeError(f"positions ({counter}) must be taken inside the transaction that stores their rows")
        if connection.features.can_return_columns_from_insert:  # PostgreSQL, SQLite 3.35+: one round trip
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {Room._meta.db_table} SET {counter} = {counter} + %s WHERE id = %s "
                               f"RETURNING {counter}", [count, self.pk])
                last = cursor.fetchone()[0]
        else:
            Room.objects.filter(pk=self.pk).update(**{counter: F(counter) + count})
            last = Room.objects.filter(pk=self.pk).values_list(counter, flat=True).get()
        setattr(self, counter, last)
        return range(last - count + 1, last + 1)

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
    # Muted (`room:<slug>` `mute`): no mention or message notifications and no live lobby bump, until
    # `muted_until` (None: until unmuted).
    muted = models.BooleanField(default=False)
    muted_until = models.DateTimeField(null=True, blank=True)

    def is_muted(self, now=None):
        return self.muted and (self.muted_until is None or self.muted_until > (now or timezone.now()))

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
    # The message's position in its room's stream, in commit order (Room.take_seqs): what
    # clients resume after (`since_seq`). Ids stay, and come from a sequence in insert order.
    seq = models.BigIntegerField(editable=False)
    # The room's change position of its last edit or delete (Room.take_change), 0 if never
    # changed: a client resuming with `since_change` gets the changes to messages it already has.
    change_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["room", "id"], name="message_room_id"),
                   models.Index(fields=["room", "change_seq"], name="message_room_change")]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="one_message_per_room_position"),
            # A retried send (same client_id) is stored once, even when two retries race.
            models.UniqueConstraint(fields=["room", "author", "client_id"], condition=Q(client_id__isnull=False),
                                    name="one_message_per_client_id"),
        ]

    def __str__(self):
        return f"{self.author}: {self.body[:40]}"

    def save(self, *args, **kwargs):
        if self.seq is None:  # a new message: its position is taken in the transaction that stores it
            with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint needed
                self.seq = self.room.take_seqs(1)[0]
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)

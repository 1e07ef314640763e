"""The hub app's one table: the outbox of pushes written in a transaction (hub.outbox)."""

import json

from django.db import models


class PushEncoder(json.JSONEncoder):
    """What the wire would do with a value JSON has no type for (hub.protocol.encode: `default=str`)."""

    def default(self, o):
        return str(o)


class OutboxEntry(models.Model):
    """A batch of pushes written inside the transaction that stored their rows; deleted once published.

    `pushes` is `{"pairs": [[group, layer message], ...]}`, or `{"rebuild": [dotted path, args]}`
    for pushes read only when they go out (e.g. unread counts): the relay calls that function.
    """

    created_at = models.DateTimeField(db_index=True)
    pushes = models.JSONField(encoder=PushEncoder)

    class Meta:
        verbose_name_plural = "outbox entries"

    def __str__(self):
        return f"outbox entry {self.pk} ({self.created_at:%Y-%m-%d %H:%M:%S})"

"""Commit-safe pushes: a transactional outbox, and the relay that empties it.

A push sent from inside a transaction (hub.push with `on_commit=True`) is written to the outbox
table in that same transaction, published right after the commit and then deleted. If the
process dies between the commit and the PUBLISH (a killed `manage.py notify`, a worker OOM), or
Redis is unreachable at that moment, the row stays: the relay, which runs in every server
process but works in one at a time (a Redis lock), publishes rows older than HUB_OUTBOX_AFTER
seconds and deletes them. A push sent outside a transaction whose PUBLISH fails is written to
the outbox then, for the relay.

Delivery is therefore at least once, and a relayed push comes late: clients drop stream
positions they already have (`seq`), and every relayed batch bumps the resync marker, which
heartbeat replies carry (`resync`), so clients re-sync what has no position (counts, lists).
"""

import asyncio
import logging
import uuid
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from hub import app_settings
from hub.redis import get_async_redis, key

logger = logging.getLogger(__name__)

RELAY_BATCH = 200  # rows per relay pass: one pass never holds the database thread long
_PROCESS_TOKEN = uuid.uuid4().hex
_relays = {}
_resync_marker = None  # this process's last reading of the marker (refreshed by its relay loop)


def rebuildable(function):
    """Mark `function(args)` as one the relay may call to make pushes again (push_each(..., rebuild=...))."""
    function.hub_outbox_rebuild = True
    return function


def record(pushes):
    """Write one batch of pushes (a JSON-able `{"pairs": ...}` or `{"rebuild": ...}`) to the outbox; its id."""
    from hub.models import OutboxEntry

    return OutboxEntry.objects.create(created_at=timezone.now(), pushes=pushes).pk


def published(entry_id):
    """The batch went out: delete it. A failure here only means the relay sends it once more."""
    from hub.models import OutboxEntry

    try:
        # One statement in autocommit: QuerySet.delete() would wrap it in BEGIN ... COMMIT.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {OutboxEntry._meta.db_table} WHERE id = %s", [entry_id])
    except Exception as error:
        logger.warning("outbox entry %s was published but not deleted (%s); it will be sent again", entry_id, error)


def pairs_of(pushes):
    """The `(group, layer message)` pairs a stored batch stands for."""
    if "pairs" in pushes:
        return [(group, message) for group, message in pushes["pairs"]]
    path, args = pushes["rebuild"]
    function = import_string(path)
    if not getattr(function, "hub_outbox_rebuild", False):
        raise ValueError(f"{path} is not marked @rebuildable; the outbox will not call it")
    from hub.push import each_pairs

    return each_pairs(function(args))


def relay_batch(*, older_than_secs=None, limit=RELAY_BATCH):
    """Publish and delete the oldest outbox rows older than `older_than_secs`; how many went out.

    A row that fails (Redis still away) stops the pass, so rows go out in the order they were written.
    """
    from hub.models import OutboxEntry
    from hub.push import publish_pairs

    age = app_settings.OUTBOX_AFTER_SECS if older_than_secs is None else older_than_secs
    rows = list(OutboxEntry.objects.filter(created_at__lte=timezone.now() - timedelta(seconds=age))
                .order_by("id").values_list("id", "pushes")[:limit])
    sent = []
    try:
        for entry_id, pushes in rows:
            try:
                pairs = pairs_of(pushes)
            except Exception:
                # A batch that can never be made (its function is gone) would block the outbox forever.
                logger.exception("outbox entry %s cannot be rebuilt; dropping it", entry_id)
                sent.append(entry_id)
                continue
            try:
                publish_pairs(pairs)
            except Exception as error:
                logger.warning("outbox relay could not publish (%s); %d batch(es) wait", error, len(rows) - len(sent))
                break
            sent.append(entry_id)
    finally:
        if sent:
            with transaction.atomic():
                OutboxEntry.objects.filter(id__in=sent).delete()
    return len(sent)


def backlog():
    """How many batches wait in the outbox (rows not yet published, or published but not yet deleted)."""
    from hub.models import OutboxEntry

    return OutboxEntry.objects.count()


# --- the relay loop of a server process


def resync_marker():
    """The marker this process last read (None before its relay first ran): heartbeat replies carry it."""
    return _resync_marker


async def relay_once(*, token=_PROCESS_TOKEN, older_than_secs=None):
    """One relay pass if this process holds the relay lock; refreshes the resync marker either way."""
    global _resync_marker
    client = get_async_redis()
    # As presence's sweep lock: held a little less than one interval, so whoever asks next gets it.
    lock_ms = int(app_settings.OUTBOX_RELAY_INTERVAL_SECS * 1000 * 0.9)
    sent = 0
    if await client.set(key("outbox", "relay"), token, nx=True, px=lock_ms):
        sent = await database_sync_to_async(relay_batch)(older_than_secs=older_than_secs)
        if sent:
            await client.incr(key("outbox", "resync"))
            logger.warning("outbox relay published %d batch(es) the process that wrote them did not", sent)
    marker = await client.get(key("outbox", "resync"))
    _resync_marker = int(marker) if marker is not None else 0
    return sent


def ensure_relay():
    """Start this process's relay task once per event loop."""
    loop = asyncio.get_running_loop()
    task = _relays.get(loop)
    if task is None or task.done():
        _relays.clear()
        _relays[loop] = asyncio.ensure_future(_relay_forever())


async def _relay_forever():
    task = asyncio.current_task()
    while not task.cancelling():  # redis-py may swallow a cancellation (see presence's sweeper)
        try:
            await relay_once()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.warning("outbox relay pass failed (%s); retrying", error)
        await asyncio.sleep(app_settings.OUTBOX_RELAY_INTERVAL_SECS)


class OutboxListener:
    """Starts the relay with the server process (hub.lifecycle), or with its first socket elsewhere."""

    async def started(self):
        ensure_relay()

    async def connected(self, conn):
        ensure_relay()

"""Commit-safe pushes: a transactional outbox, and the relay that empties it.

A push sent from inside a transaction (hub.push with `on_commit=True`; several together with
`hub.push.push_batch()`) is written to the outbox table in that same transaction, and
published right after the commit, in the same round trip that marks its row published (a
set in Redis). If the process dies between the commit and the PUBLISH (a killed `manage.py
notify`, a worker OOM), or Redis is unreachable at that moment, the row stays unmarked: the
relay, which runs in every server process but works in one at a time (a Redis lock),
publishes unmarked rows older than HUB_OUTBOX_AFTER seconds, and deletes every row it has
seen, marked or published, in bulk. A push sent outside a transaction whose PUBLISH fails
is written to the outbox then, for the relay.

Delivery is therefore at least once, and a relayed push comes late: clients drop stream
positions they already have (`seq`), and every relay pass that published something bumps
the resync marker, which heartbeat replies carry (`resync`), so clients re-sync what has no
position (counts).
"""

import asyncio
import logging
import uuid
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from hub import app_settings
from hub.redis import get_async_redis, get_sync_redis, key

logger = logging.getLogger(__name__)

RELAY_BATCH = 200  # rows a relay pass publishes at most: one pass never holds the database thread long
CLEAN_BATCH = 1000  # rows a relay pass looks at per query (most were published by their writer: deleted)
CLEAN_PASSES = 10  # queries per pass at most: 10,000 rows a second, far above any write rate here
DONE_TTL_SECS = 86400  # the set of published ids, if no relay ran for a day (its rows are then sent again)
_PROCESS_TOKEN = uuid.uuid4().hex
_relays = {}
_resync_marker = None  # this process's last reading of the marker (refreshed by its relay loop)


def rebuildable(function):
    """Mark `function(args)` as one the relay may call to make pushes again (push_each(..., rebuild=...))."""
    function.hub_outbox_rebuild = True
    return function


def record(pushes):
    """Write one batch of pushes (`{"pairs": ...}`, `{"rebuild": ...}` or `{"all": [...]}`) to the outbox; its id.

    One INSERT ... RETURNING, without the ORM's model machinery: it runs in every write transaction.
    """
    from hub.models import OutboxEntry

    fields = OutboxEntry._meta
    values = [fields.get_field("created_at").get_db_prep_value(timezone.now(), connection),
              fields.get_field("pushes").get_db_prep_value(pushes, connection)]
    sql = f"INSERT INTO {fields.db_table} (created_at, pushes) VALUES (%s, %s)"
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:  # PostgreSQL, SQLite 3.35+
            cursor.execute(sql + " RETURNING id", values)
            return cursor.fetchone()[0]
        cursor.execute(sql, values)
        return cursor.lastrowid


def mark_published(redis, entry_id):
    """Note (on a redis-py client or pipeline) that an outbox row went out; the relay deletes such rows in bulk.

    A set in Redis rather than a DELETE per push: no second write to the database on the
    hot path. If Redis loses the set, the relay sends those rows again (at least once).
    """
    redis.sadd(key("outbox", "done"), entry_id)
    redis.expire(key("outbox", "done"), DONE_TTL_SECS)


def pairs_of(pushes):
    """The `(group, layer message)` pairs a stored batch stands for."""
    if "all" in pushes:
        return [pair for part in pushes["all"] for pair in pairs_of(part)]
    if "pairs" in pushes:
        return [(group, message) for group, message in pushes["pairs"]]
    path, args = pushes["rebuild"]
    function = import_string(path)
    if not getattr(function, "hub_outbox_rebuild", False):
        raise ValueError(f"{path} is not marked @rebuildable; the outbox will not call it")
    from hub.push import each_pairs

    return each_pairs(function(args))


def relay_batch(*, older_than_secs=None, limit=RELAY_BATCH):
    """Tidy and relay the outbox rows older than `older_than_secs`; how many this pass published.

    Rows their writer marked published are deleted (CLEAN_BATCH at a time); the others are
    published, oldest first, and deleted. A row that fails (Redis still away) stops the pass,
    so rows go out in the order they were written.
    """
    from hub.models import OutboxEntry
    from hub.push import publish_pairs

    age = app_settings.OUTBOX_AFTER_SECS if older_than_secs is None else older_than_secs
    cutoff = timezone.now() - timedelta(seconds=age)
    client = get_sync_redis()
    sent = 0
    for _ in range(CLEAN_PASSES):
        ids = list(OutboxEntry.objects.filter(created_at__lte=cutoff).order_by("id")
                   .values_list("id", flat=True)[:CLEAN_BATCH])
        if not ids:
            break
        try:
            marks = client.smismember(key("outbox", "done"), ids)
        except Exception as error:
            logger.warning("outbox relay cannot reach Redis (%s); the outbox waits", error)
            return sent
        done = [i for i, published in zip(ids, marks) if published]
        pending = sorted(set(ids) - set(done))[:max(0, limit - sent)]
        gone = list(done)
        try:
            rows = OutboxEntry.objects.filter(id__in=pending).order_by("id").values_list("id", "pushes")
            for entry_id, pushes in rows:
                try:
                    pairs = pairs_of(pushes)
                except Exception:
                    # A batch that can never be made (its function is gone) would block the outbox forever.
                    logger.exception("outbox entry %s cannot be rebuilt; dropping it", entry_id)
                    gone.append(entry_id)
                    continue
                try:
                    publish_pairs(pairs)
                except Exception as error:
                    logger.warning("outbox relay could not publish (%s); the rest waits", error)
                    return sent
                gone.append(entry_id)
                sent += 1
        finally:
            if gone:
                OutboxEntry.objects.filter(id__in=gone).delete()
            if done:
                try:
                    client.srem(key("outbox", "done"), *done)
                except Exception:  # the ids stay in a set that expires; harmless
                    pass
        if len(ids) < CLEAN_BATCH or sent >= limit:
            break
    return sent


def backlog():
    """How many rows the outbox holds (not yet published, or published and not yet tidied by the relay)."""
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

"""Presence actions: track/untrack connections, coalesce diffs, sweep dead connections.

Diffs are buffered per process and flushed every COALESCE_SECS as one push per set,
so a reconnect storm costs each socket O(1) frames per window, not one per arrival.
"""

import asyncio
import logging
import uuid
from datetime import datetime, timezone

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone as dj_timezone

from hub.push import agroup_send_many, push_message, topic_group
from presence import store
from presence.models import LastSeen

logger = logging.getLogger(__name__)

SITE_SET = "presence"
SITE_EVENT = "diff"
COALESCE_SECS = 0.25
_PROCESS_TOKEN = uuid.uuid4().hex


def sweep_interval_s():
    """Often enough that a dead server's users go within TTL + 5 s."""
    return max(0.5, min(2.0, settings.HUB_PRESENCE_TTL / 3))


def iso(dt):
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def presence_entry(user, status, last_seen=None, metas=None):
    """PROTOCOL.md PRESENCE: USER + status + last_seen (+ metas when the set has metadata)."""
    entry = {**user, "status": status, "last_seen": last_seen}
    if metas:
        entry["metas"] = metas
    return entry


class Coalescer:
    """Per event loop buffer of changes, flushed as one diff per set per window."""

    def __init__(self):
        self.pending = {}  # set name -> {user id: [first kind, last kind, Change]}
        self.events = {}
        self.flusher = None

    def add(self, changes):
        for change in changes:
            users = self.pending.setdefault(change.set_name, {})
            self.events[change.set_name] = change.event
            if change.user_id in users:
                users[change.user_id][1] = change.kind
                users[change.user_id][2] = change
            else:
                users[change.user_id] = [change.kind, change.kind, change]
        if self.pending and (self.flusher is None or self.flusher.done()):
            self.flusher = asyncio.ensure_future(self._flush_later())

    async def _flush_later(self):
        await asyncio.sleep(COALESCE_SECS)
        await self.flush()

    async def flush(self):
        pending, self.pending = self.pending, {}
        for set_name, users in pending.items():
            diff = {"joins": [], "leaves": [], "updates": []}
            for first, last, change in users.values():
                kind = net_kind(first, last)
                if kind is None:
                    continue
                last_seen = change.last_seen if kind == "leave" else None
                status = "offline" if kind == "leave" else change.status
                diff[kind + "s"].append(presence_entry(change.user, status, last_seen))
            if any(diff.values()):
                try:
                    await agroup_send_many(
                        [topic_group(set_name)], push_message(set_name, self.events.get(set_name, "presence"), diff)
                    )
                except Exception:
                    logger.warning("could not push a presence diff for %s", set_name, exc_info=True)


def net_kind(first, last):
    """What others should hear after several changes of one user in one window."""
    if first == "join" and last == "leave":
        return None  # came and went: nothing to show
    if first == "leave" and last != "leave":
        return "update"  # a reconnect: still here, maybe with a new status
    if first == "join":
        return "join"
    return last


_coalescers = {}
_sweepers = {}


def _coalescer():
    loop = asyncio.get_running_loop()
    coalescer = _coalescers.get(loop)
    if coalescer is None:
        _coalescers.clear()  # loops of finished tests; a server has one loop
        coalescer = _coalescers[loop] = Coalescer()
    return coalescer


async def publish(changes):
    """Record leaves of the site set in the database and queue every change for the next diff."""
    if not changes:
        return
    site_leaves = [c for c in changes if c.set_name == SITE_SET and c.kind == "leave"]
    if site_leaves:
        now = dj_timezone.now()
        for change in site_leaves:
            change.last_seen = iso(now)
            await store.remember_last_seen(change.user_id, change.last_seen)
        await database_sync_to_async(last_seen_record)(user_ids=[c.user_id for c in site_leaves], at=now)
    _coalescer().add(changes)


def last_seen_record(*, user_ids, at):
    """One write per leave: upsert LastSeen rows for users who just went offline."""
    from django.contrib.auth import get_user_model

    existing = set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    LastSeen.objects.bulk_create(
        [LastSeen(user_id=uid, at=at) for uid in user_ids if uid in existing],
        update_conflicts=True, unique_fields=["user"], update_fields=["at"],
    )


def ensure_sweeper():
    """Start this process's sweep task once per event loop."""
    loop = asyncio.get_running_loop()
    task = _sweepers.get(loop)
    if task is None or task.done():
        _sweepers.clear()
        _sweepers[loop] = asyncio.ensure_future(_sweep_forever())


async def _sweep_forever():
    while True:
        interval = sweep_interval_s()
        try:
            await sweep_once(lock_ms=int(interval * 1000 * 0.9))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("presence sweep failed; retrying", exc_info=True)
        await asyncio.sleep(interval)


async def sweep_once(*, lock_ms):
    """Expire dead connections if this process holds the sweep lock; return the changes."""
    if not await store.acquire_sweep_lock(_PROCESS_TOKEN, lock_ms):
        return None
    changes = await store.sweep()
    await publish(changes)
    return changes

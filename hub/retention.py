"""What Hub stops keeping: old rows each app prunes (`manage.py hub_prune`), and a deleted user's live state.

Two registries, filled in each app's `AppConfig.ready()`, so that hub names no app:

    retention.register("notifications", notification_prune, what=..., done="deleted")
    retention.on_user_deleted("presence", user_forget)

Pruning runs in short batches (each batch's write is one transaction of at most `batch_size`
rows, the search for the next batch runs outside any transaction), so a cron job never holds
SQLite's write lock for long while the server runs; every batch re-checks its condition, so
two runs at once, or one stopped half way, do no harm. A Redis lock keeps a second run from
doing the same work twice.

A user's deletion: one post_delete receiver (connected in hub's `ready()`); after the commit
every registered forget function runs, in registration order, then hub drops its own keys of
that user and closes their sockets (4401) — last, so that a closing socket finds nothing of
its user left to report. A Django signal per app could not promise that order.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from hub import app_settings, connections, protocol, rates
from hub.push import close_message, publish, user_group
from hub.redis import get_sync_redis, key

logger = logging.getLogger(__name__)


# --- pruning


@dataclass(frozen=True)
class Pruner:
    """One app's pruning: `prune(*, now, dry_run, batch_size)` returns the rows it changed (or would).

    `what()` names those rows as of now ("read notifications older than 90 days"), `done` is what
    happened to them ("deleted").
    """

    name: str
    prune: Callable[..., int]
    what: Callable[[], str]
    done: str


_pruners = {}


def register(name, prune, *, what, done):
    """Add an app's pruning to `manage.py hub_prune` (call it in `AppConfig.ready()`)."""
    existing = _pruners.get(name)
    if existing is not None and existing.prune is not prune:
        raise ValueError(f"a pruner named {name!r} is already registered")
    _pruners[name] = Pruner(name, prune, what, done)


def unregister(name):
    """Remove a pruner (tests register throwaway ones)."""
    _pruners.pop(name, None)


def registered():
    """Every registered Pruner, in registration order."""
    return list(_pruners.values())


def prune(*, dry_run=False, batch_size=None):
    """Run every pruner (`manage.py hub_prune`); returns [(pruner, count)], or None while another run holds the lock.

    A dry run only counts, so it takes no lock. Without Redis it prunes all the same (the lock
    only saves doubled work), and logs that it did.
    """
    if dry_run:
        return prune_all(dry_run=True, batch_size=batch_size)
    try:
        token = _lock_acquire()
    except RedisError:
        logger.warning("Redis is unreachable: pruning without the lock that keeps two runs apart", exc_info=True)
        return prune_all(batch_size=batch_size)
    if token is None:
        return None
    try:
        return prune_all(batch_size=batch_size)
    finally:
        _lock_release(token)


def prune_all(*, dry_run=False, batch_size=None, now=None):
    """Run every pruner with one cutoff time (no lock); returns [(pruner, count)]."""
    now = now or timezone.now()
    batch_size = batch_size or app_settings.PRUNE_BATCH_SIZE
    return [(pruner, pruner.prune(now=now, dry_run=dry_run, batch_size=batch_size)) for pruner in registered()]


def prune_in_batches(queryset, *, batch_size, apply):
    """`apply(rows)` to `queryset`'s rows, at most `batch_size` at a time, each batch its own transaction.

    The rows are walked in id order (each search starts after the last batch: one pass over
    the table in all). Only `apply`, given the batch as `queryset` narrowed to its ids (so the
    condition is checked again inside the write), runs in a transaction. Returns the sum of
    what `apply` returned.
    """
    total, last_id = 0, None
    while True:
        rows = queryset if last_id is None else queryset.filter(pk__gt=last_id)
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        with transaction.atomic(using=queryset.db):
            total += apply(queryset.filter(pk__in=ids))
        last_id = ids[-1]
        if len(ids) < batch_size:
            return total


# The lock only saves doubled work (pruning is correct without it), so it simply expires after
# PRUNE_LOCK_SECS: a killed run does not block the next one for longer.
# Deleted only if it is still ours (it may have expired and been taken by another run).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _lock_acquire():
    """A token if this run may prune now, None while another run holds the lock."""
    token = uuid.uuid4().hex
    return token if get_sync_redis().set(key("prune-lock"), token, nx=True, ex=app_settings.PRUNE_LOCK_SECS) else None


def _lock_release(token):
    try:
        get_sync_redis().eval(_RELEASE, 1, key("prune-lock"), token)
    except RedisError:
        logger.warning("could not release the hub_prune lock; it expires by itself", exc_info=True)


# --- a deleted user


_forgetters = {}


def on_user_deleted(name, forget):
    """Call `forget(user_id=...)` after each user's deletion commits (apps drop what they keep of them)."""
    existing = _forgetters.get(name)
    if existing is not None and existing is not forget:
        raise ValueError(f"a user-deletion hook named {name!r} is already registered")
    _forgetters[name] = forget


def user_deleted(sender, instance, using, **kwargs):
    """post_delete receiver of the user model: forget them once the deletion commits (never on a rollback)."""
    transaction.on_commit(partial(user_forget, user_id=instance.pk), using=using)


def user_forget(*, user_id):
    """Every app forgets the user, hub drops its per-user keys, then the user's open sockets close 4401.

    A failing step is logged and the others still run (the deletion itself has committed).
    """
    steps = [*_forgetters.items(), ("hub", _hub_forget)]
    for name, forget in steps:
        try:
            forget(user_id=user_id)
        except Exception:
            logger.exception("could not remove what %s keeps of deleted user %s", name, user_id)


def _hub_forget(*, user_id):
    connections.forget_user(user_id)
    rates.forget_user(user_id)
    # Their sessions went with them: the same close as a logout's (the client goes to the login page).
    publish([user_group(user_id)], close_message(protocol.CLOSE_SESSION_ENDED))

"""Presence actions: track/untrack connections, coalesce diffs, sweep dead connections.

Diffs are buffered per process and flushed every COALESCE_SECS as one push per set,
so a reconnect storm costs each socket O(1) frames per window, not one per arrival.
"""

import asyncio
import logging
import math
import time
import uuid

from channels.db import database_sync_to_async
from django.utils import timezone

from hub import app_settings as hub_settings
from hub.payload import get_choice
from hub.protocol import iso
from hub.push import apush_to_topic, push_to_topic
from hub.topics import SharedPayload
from hub.users import user_dict, users_by_username
from presence import app_settings, selectors, store
from presence.models import AppearOffline, LastSeen

logger = logging.getLogger(__name__)

SITE_SET = "presence"
SITE_EVENT = "diff"
# unseen_set(): a name no topic can have (registered topic patterns start with a letter, hub.topics), so no
# socket can ever join it or list it.
UNSEEN_PREFIX = "#unseen:"
OTHER_STATUS = {"online": "away", "away": "online"}
_PROCESS_TOKEN = uuid.uuid4().hex


def sweep_interval_s():
    """Often enough that a dead server's users go within TTL + 5 s."""
    return max(0.5, min(2.0, hub_settings.PRESENCE_TTL_SECS / 3))


def status_from(payload, *, required):
    """The `status` a heartbeat or `set` carries ("online" or "away"); BadRequest for anything else."""
    return get_choice(payload, "status", app_settings.STATUSES, required=required)


def presence_entry(user, status, last_seen=None, metas=None):
    """PROTOCOL.md PRESENCE: USER + status + last_seen (+ metas when the set has metadata)."""
    entry = {**user, "status": status, "last_seen": last_seen}
    if metas:
        entry["metas"] = metas
    return entry


class Coalescer:
    """Per event loop buffer of changed users per set, flushed as one diff per set per window.

    A flush reports each changed user's state as Redis has it at flush time, not the
    buffered change: processes flush on their own clocks, so a leave buffered on one
    server may be published after the same user's re-join on another, and only the
    current state is right whatever order the diffs arrive in. For the same reason a
    user who came and went within one window gets a leave, not silence: a socket that
    joined mid-window has them in its join reply. A user whose status only changed and is back
    where it was when the window began (away, then online again) gets nothing: to everyone who
    saw the window's start, nothing changed. A user deleted within the window is
    offline with no USER record left in Redis: their leave is told with the USER the
    leave itself carried, or they would stay online on everyone's screen.
    """

    def __init__(self):
        self.pending = {}  # set name -> {user id: first change kind in this window}
        self.status_before = {}  # (set name, user id) -> status when the window began, for users first updated
        self.events = {}  # set name -> push event name
        self.last_seen = {}  # user id -> ISO of a site-set leave in this window
        self.left = {}  # user id -> USER of a leave in this window (for when Redis no longer has it)
        self.flusher = None
        self.window_s = app_settings.COALESCE_SECS
        self.large_counts = {}  # set name -> the count this process last pushed for a large set

    def add(self, changes):
        for change in changes:
            users = self.pending.setdefault(change.set_name, {})
            if change.user_id not in users:
                users[change.user_id] = change.kind
                if change.kind == "update":  # online <-> away: it was the other one before
                    self.status_before[(change.set_name, change.user_id)] = OTHER_STATUS[change.status]
            self.events[change.set_name] = change.event
            if change.last_seen:
                self.last_seen[change.user_id] = change.last_seen
            if change.kind == "leave" and change.user:
                self.left[change.user_id] = change.user
        if self.pending and (self.flusher is None or self.flusher.done()):
            self.flusher = asyncio.ensure_future(self._flush_later())

    async def _flush_later(self):
        # Changes that arrive while a flush awaits Redis wait for the next window, not the next add().
        task = asyncio.current_task()
        while self.pending and not task.cancelling():  # redis-py may swallow a cancel (see hub.guards)
            await asyncio.sleep(self.window_s)
            await self.flush()

    async def flush(self):
        pending, self.pending = self.pending, {}
        status_before, self.status_before = self.status_before, {}
        last_seen, self.last_seen = self.last_seen, {}
        left, self.left = self.left, {}
        # In a storm (a deploy's reconnects) every window is one frame to every socket of the
        # set, so frames cost O(sockets) per window: stretch the window while diffs are big.
        storm = max((len(users) for users in pending.values()), default=0) >= app_settings.STORM_ENTRIES
        self.window_s = app_settings.STORM_COALESCE_SECS if storm else app_settings.COALESCE_SECS
        for set_name, users in pending.items():
            try:
                diff = await diff_for(set_name, users, last_seen, left, status_before)
                if not self._worth_pushing(set_name, diff):
                    continue
                await apush_to_topic(set_name, self.events.get(set_name, "presence"), diff, droppable=True)
            except Exception:
                logger.warning("could not push a presence diff for %s", set_name, exc_info=True)

    def _worth_pushing(self, set_name, diff):
        """A diff with users in it; for a large set also one that only moves the count."""
        names_someone = bool(diff["joins"] or diff["leaves"] or diff["updates"])
        if not diff["more"]:
            self.large_counts.pop(set_name, None)
            return names_someone
        moved = self.large_counts.get(set_name) != diff["count"]
        self.large_counts[set_name] = diff["count"]
        return moved or names_someone


async def diff_for(set_name, first_kinds, last_seen, left=None, status_before=None):
    """{"joins", "leaves", "updates", "count", "more"} for users that changed: their state in Redis now.

    `count` is the number of users in the set; `more` is true while the set is large (above
    HUB_PRESENCE_LIST_MAX): then the site set's diff still names every changed user, and each
    socket is sent only the ones it watches (PresenceTopic.reshape), and another set's diff
    names nobody (a big room is told as a count).
    `left`: {user id: USER} of leaves seen in the window, for users Redis has no record of now.
    `status_before`: {(set name, user id): status} of users whose first change was an update;
    one whose status is that again is left out (it flipped back).
    """
    count, large = await store.size(set_name, list_max=hub_settings.PRESENCE_LIST_MAX)
    diff = {"joins": [], "leaves": [], "updates": [], "count": count, "more": large}
    if large and set_name != SITE_SET:
        return diff
    states = await store.states(set_name, list(first_kinds))
    gone = [uid for uid, (_, status, _) in states.items() if status == "offline"]
    if set_name == SITE_SET:
        missing = [uid for uid in gone if uid not in last_seen]
        last_seen = {**last_seen, **await store.last_seen(missing)}
    for uid, (user, status, metas) in states.items():
        if not user and status == "offline":
            user = (left or {}).get(uid)  # deleted since they left (presence.services.user_forget)
        if not user:
            continue  # Redis lost the user's record (a restart): nothing to say about them
        if status == "offline":
            seen = last_seen.get(uid) if set_name == SITE_SET else None
            diff["leaves"].append(presence_entry(user, "offline", seen))
        elif (status_before or {}).get((set_name, uid)) == status and first_kinds[uid] == "update":
            continue  # away and back (or back and away) within the window: nothing to tell
        else:
            kind = "joins" if first_kinds[uid] == "join" else "updates"
            diff[kind].append(presence_entry(user, status, None, metas))
    return diff


async def present_page(set_name):
    """{"users", "count", "more"}: everyone present, or while the set is large its first page."""
    users, count, large = await store.list_page(set_name, list_max=hub_settings.PRESENCE_LIST_MAX,
                                                page=app_settings.PAGE_SIZE)
    return {"users": users, "count": count, "more": large}


class _DiffIndex:
    """One large-set diff, indexed by user id, with its count-only form: built once per process per diff."""

    __slots__ = ("payload", "by_user", "count_only")

    def __init__(self, payload):
        self.payload = payload
        self.by_user = {entry["id"]: (kind, entry) for kind in ("joins", "leaves", "updates")
                        for entry in payload[kind]}
        moved = payload["joins"] or payload["leaves"]  # only joins and leaves move the count
        self.count_only = SharedPayload(joins=[], leaves=[], updates=[], count=payload["count"],
                                        more=True) if moved else None


_last_index = [None]  # every socket of the process filters the same diff in a row: one is enough


def watched_part(payload, watched):
    """The part of a large site-set diff one socket gets: the count and the users it watches.

    O(the smaller of the diff and the watch list) per socket. A socket that watches none of
    the diff's users gets one shared dict (hub.fanout frames it once for all of them), or
    nothing when the count did not move.
    """
    index = _last_index[0]
    if index is None or index.payload is not payload:
        index = _last_index[0] = _DiffIndex(payload)
    if len(watched) < len(index.by_user):
        found = [index.by_user[uid] for uid in watched if uid in index.by_user]
    else:
        found = [pair for uid, pair in index.by_user.items() if uid in watched]
    if not found:
        return index.count_only
    part = {"joins": [], "leaves": [], "updates": [], "count": payload["count"], "more": True}
    for kind, entry in found:
        part[kind].append(entry)
    return part


_coalescers = {}
_sweepers = {}


def _coalescer():
    loop = asyncio.get_running_loop()
    coalescer = _coalescers.get(loop)
    if coalescer is None:
        _coalescers.clear()  # loops of finished tests; a server has one loop
        coalescer = _coalescers[loop] = Coalescer()
    return coalescer


async def flush_pending():
    """Send the diffs this process is still holding back (it is stopping)."""
    coalescer = _coalescers.get(asyncio.get_running_loop())
    if coalescer is not None and coalescer.pending:
        await coalescer.flush()


async def publish(changes):
    """Record leaves of the site set (Redis and database) and queue every change for the next diff."""
    changes = [c for c in changes if not c.set_name.startswith(UNSEEN_PREFIX)]  # nobody may see those
    if not changes:
        return
    site_leaves = [c for c in changes if c.set_name == SITE_SET and c.kind == "leave"]
    now = timezone.now()
    for change in site_leaves:
        change.last_seen = iso(now)
    # Queued first: Redis has already dropped these entries, so a failed write below
    # must not cost the others the leave (the user would stay online on their screens).
    _coalescer().add(changes)
    if site_leaves:
        user_ids = [c.user_id for c in site_leaves]
        try:
            await store.remember_last_seen(user_ids, iso(now))
            await database_sync_to_async(last_seen_record)(user_ids=user_ids, at=now)
        except Exception:
            logger.warning("could not record last_seen of %d users", len(user_ids), exc_info=True)


async def presence_query(*, usernames):
    """PRESENCE of the named users (unknown names left out), with last_seen for offline ones.

    last_seen comes from Redis, or from the database when Redis lost it (a restart).
    """
    users = await database_sync_to_async(users_by_username)(usernames=set(usernames))
    statuses = await store.statuses(SITE_SET, [user.pk for user in users])
    offline = [user.pk for user in users if statuses[user.pk] == "offline"]
    seen = await store.last_seen(offline)
    missing = [uid for uid in offline if uid not in seen]
    if missing:
        from_db = await database_sync_to_async(selectors.last_seen_map)(user_ids=missing)
        seen.update({uid: iso(at) for uid, at in from_db.items()})
    return [
        presence_entry(user_dict(user), statuses[user.pk], seen.get(user.pk))
        for user in sorted(users, key=lambda u: u.username)
    ]


def user_forget(*, user_id):
    """A deleted user: out of every presence set at once (a leave to whoever sees them), and out of Redis.

    Runs after the deletion commits (hub.retention.on_user_deleted), in sync code, before the
    user's sockets are closed: their own cleanup then finds nothing left to leave. The leaves
    go straight out, one push per set, not through a process's coalescer (there may be no
    event loop here); a coalescer still holding a change of theirs finds them gone and says nothing.
    """
    changes = store.purge_user(user_id, block_s=app_settings.DELETED_USER_BLOCK_SECS)
    by_set = {}
    for change in changes:
        if change.kind == "leave":
            by_set.setdefault((change.set_name, change.event), []).append(presence_entry(change.user, "offline"))
    for (set_name, event), leaves in by_set.items():
        # At once: this already runs after the deletion's commit (hub.retention waits for it).
        push_to_topic(set_name, event, {"joins": [], "leaves": leaves, "updates": []}, on_commit=False,
                      droppable=True)


def last_seen_record(*, user_ids, at):
    """One write per leave: upsert LastSeen rows for users who just went offline."""
    from django.contrib.auth import get_user_model

    existing = set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    LastSeen.objects.bulk_create(
        [LastSeen(user_id=uid, at=at) for uid in user_ids if uid in existing],
        update_conflicts=True, unique_fields=["user"], update_fields=["at"],
    )


# The status of each live connection of this process, as last written to Redis: presence
# owns it (the socket knows nothing of statuses). The browser client sends its status with every
# heartbeat, and an unchanged one must stay an O(1) heartbeat.
_statuses = {}
# The status throttle: when each connection's status last reached Redis, the timer of a held
# change, and the tasks applying held changes now.
_status_applied_at = {}
_held_statuses = {}
_applying = set()


def connection_status(conn):
    """"online" or "away": what the connection last said of itself (online until it says otherwise)."""
    return _statuses.get(conn.conn_id, "online")


async def connection_open(conn):
    """A new socket: tracked in the site set unless its user chose to appear offline."""
    if await database_sync_to_async(selectors.appears_offline)(user=conn.user):
        _hidden.add(conn.conn_id)
        return
    await connection_track(conn)


async def connection_track(conn):
    """Track a socket in the site set (on connect, and again if Redis lost it); not while its user appears offline."""
    if conn.conn_id in _hidden:
        return
    await publish(await _store_track(conn, SITE_SET, None, SITE_EVENT))


async def connection_refresh(conn):
    """Push a socket's expiry forward; re-track it if Redis forgot it (restart, or swept while stalled)."""
    if not await store.touch(conn.conn_id, hub_settings.PRESENCE_TTL_SECS) and conn.conn_id not in _hidden:
        await connection_track(conn)  # (a hidden socket in no set has nothing in Redis to touch)


async def connection_status_set(conn, status):
    """Set a socket's status in every set it is in; free when the status did not change.

    At most one change per STATUS_MIN_INTERVAL_SECS reaches Redis: a sooner one is held and
    applied when the interval has passed, the latest held status winning (a client flipping
    away/online 20 times a second costs everyone one diff a second at most, and still ends
    right). A change back to the applied status drops the held one.
    """
    held = _held_statuses.pop(conn.conn_id, None)
    if held is not None:
        held.cancel()
    if connection_status(conn) == status:
        return
    wait = _status_applied_at.get(conn.conn_id, -math.inf) + app_settings.STATUS_MIN_INTERVAL_SECS - time.monotonic()
    if wait > 0:
        _held_statuses[conn.conn_id] = asyncio.get_running_loop().call_later(wait, _apply_held_status, conn, status)
        return
    await _apply_status(conn, status)


def _apply_held_status(conn, status):
    _held_statuses.pop(conn.conn_id, None)
    task = asyncio.ensure_future(_apply_held(conn, status))
    _applying.add(task)  # a reference until it is done (the loop keeps only a weak one)
    task.add_done_callback(_applying.discard)


async def _apply_held(conn, status):
    try:
        await _apply_status(conn, status)
    except Exception:
        # Redis away: the next heartbeat carries the status again (the browser client sends it each time).
        logger.warning("could not apply the held status of connection %s", conn.conn_id, exc_info=True)
        _statuses.pop(conn.conn_id, None)


async def _apply_status(conn, status):
    if getattr(conn, "closed", False):
        return  # the socket closed while its status was held: connection_forget has run or will
    _statuses[conn.conn_id] = status
    _status_applied_at[conn.conn_id] = time.monotonic()
    await publish(await store.set_status(conn.conn_id, status))


def _drop_local_state(conn):
    """What this process keeps of a live connection (status, held change, tracked sets): gone with it."""
    held = _held_statuses.pop(conn.conn_id, None)
    if held is not None:
        held.cancel()
    _status_applied_at.pop(conn.conn_id, None)
    _statuses.pop(conn.conn_id, None)
    _tracked_sets.pop(conn.conn_id, None)
    _hidden.discard(conn.conn_id)


async def connection_hand_over(conn, grace_s):
    """The server is stopping and closed this socket: leave its presence in Redis for `grace_s` more.

    Its client reconnects to another server within that time (backoff with jitter over the
    drain), and its new connection joins sets where the user is still present: nobody sees a
    leave and a join. A client that does not come back expires like the connection of a dead
    server, swept by a running server, and its user leaves then.
    """
    _drop_local_state(conn)
    if not await store.touch(conn.conn_id, grace_s):
        await publish(await store.forget(conn.conn_id))  # Redis had lost it meanwhile: nothing to hold


async def connection_forget(conn):
    """The socket closed: remove it from every set."""
    _drop_local_state(conn)
    await publish(await store.forget(conn.conn_id))


# The sets (besides the site set) each live connection of this process is tracked in, {name: (meta, event,
# always)}, so an untrack of a set the socket is not in (a refused join's cleanup) costs no Redis call, and
# a socket whose user stops appearing offline is tracked again where it was.
_tracked_sets = {}
# Live connections of this process whose user appears offline: in no set others see, apart from the sets
# tracked with `always` (a game's referee must know a player is there whatever they chose); their other
# sets' unseen twins (unseen_set) keep them known to the server, for presence.api.looking.
_hidden = set()


def unseen_set(set_name):
    """Where the sockets of people appearing offline are tracked instead of `set_name`: no diff of it is ever
    pushed and nobody lists it, but the server still knows they are there (presence.api.looking)."""
    return f"{UNSEEN_PREFIX}{set_name}"


def _store_track(conn, set_name, meta, event):
    """Track the socket in a named set in Redis, with its user and status now; the changes, to publish or not."""
    return store.track(set_name, conn.conn_id, user=conn_user(conn), status=connection_status(conn),
                       ttl_s=hub_settings.PRESENCE_TTL_SECS, meta=meta, event=event)


async def _track_unseen(conn, set_name, meta, event):
    await _store_track(conn, unseen_set(set_name), meta, event)  # not published: nobody may see them


async def connection_set_track(conn, set_name, *, meta=None, event="presence", always=False):
    """Track a socket in a named set (presence.api.track)."""
    _tracked_sets.setdefault(conn.conn_id, {})[set_name] = (meta, event, always)  # first: a failure below still gets untracked
    if conn.conn_id in _hidden and not always:
        await _track_unseen(conn, set_name, meta, event)
        return
    await publish(await _store_track(conn, set_name, meta, event))


async def connection_set_untrack(conn, set_name):
    """Stop tracking a socket in a named set (presence.api.untrack); free if it was not tracked there."""
    tracked = _tracked_sets.get(conn.conn_id, {})
    if set_name not in tracked:
        return
    _meta, _event, always = tracked.pop(set_name)
    if conn.conn_id in _hidden and not always:
        await store.untrack(unseen_set(set_name), conn.conn_id)
        return
    await publish(await store.untrack(set_name, conn.conn_id))


def appear_offline_set(*, user, value):
    """Appear offline (or stop): stored, then every open socket of the user re-reads it (hub.push.users_changed
    reaches each one's lifecycle `user_changed`) and leaves, or joins again, every set others see."""
    from hub.push import users_changed

    if value:
        AppearOffline.objects.get_or_create(user=user)
    else:
        AppearOffline.objects.filter(user=user).delete()
    users_changed([user.pk])


async def connection_visibility_check(conn):
    """The user changed: if they began or stopped appearing offline, this socket leaves or rejoins its sets."""
    hidden = await database_sync_to_async(selectors.appears_offline)(user=conn.user)
    if getattr(conn, "closed", False) or hidden == (conn.conn_id in _hidden):
        return
    shown = [(name, meta, event) for name, (meta, event, always) in _tracked_sets.get(conn.conn_id, {}).items()
             if not always]
    if hidden:
        _hidden.add(conn.conn_id)
        changes = await store.untrack(SITE_SET, conn.conn_id)
        for name, meta, event in shown:
            changes += await store.untrack(name, conn.conn_id)
            await _track_unseen(conn, name, meta, event)
        await publish(changes)
        return
    _hidden.discard(conn.conn_id)
    await connection_track(conn)
    for name, meta, event in shown:
        await store.untrack(unseen_set(name), conn.conn_id)
        await publish(await _store_track(conn, name, meta, event))


def conn_user(conn):
    return user_dict(conn.user)


def ensure_sweeper():
    """Start this process's sweep task once per event loop."""
    loop = asyncio.get_running_loop()
    task = _sweepers.get(loop)
    if task is None or task.done():
        _sweepers.clear()
        _sweepers[loop] = asyncio.ensure_future(_sweep_forever())


async def _sweep_forever():
    task = asyncio.current_task()
    # Stop once asked to: redis-py 8 sometimes swallows a cancellation in the middle of a command
    # (see hub.guards.Watchdog), and a loop's teardown would wait for this one forever.
    while not task.cancelling():
        interval = sweep_interval_s()
        try:
            await sweep_once(lock_ms=int(interval * 1000 * 0.9))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("presence sweep failed; retrying", exc_info=True)
        await asyncio.sleep(interval)


async def sweep_once(*, lock_ms, token=_PROCESS_TOKEN):
    """Expire dead connections if this process holds the sweep lock; None if another does."""
    if not await store.acquire_sweep_lock(token, lock_ms):
        return None
    swept = []
    for _ in range(app_settings.SWEEP_MAX_BATCHES):
        expired, changes = await store.sweep()
        await publish(changes)
        swept.extend(changes)
        if expired < app_settings.SWEEP_BATCH:
            break
    return swept


async def online_count():
    """How many users are present on the site now (every server process), as the site set's join reports it."""
    count, _ = await store.size(SITE_SET, list_max=hub_settings.PRESENCE_LIST_MAX)
    return count

"""Pushes to sockets through the channel layer: the one way every app sends a live event.

    push_to_topic(topic, event, payload)            every socket joined to `topic`
    push_to_users(user_ids, topic, event, payload)  every socket of these users joined to `topic`
    push_each([(user_id, topic, event, payload)])   a different payload per user, one round trip

From sync code these wait for the current transaction to commit (`on_commit=True`, the
default): a rolled-back write pushes nothing, and the pushes are written to the outbox in the
same transaction (hub.outbox), so a push that fails after the commit, or whose process dies
first, is sent by the outbox relay instead: at least once, never raised to the writer.
Outside a transaction they send at once. Async code uses `apush_to_topic`/`apush_to_users`,
which send at once. Group names are made here and only here (channels allows
`[a-zA-Z0-9-_.]` and at most 100 characters, so topic names like "room:general" are
mapped). Fan-out to many groups is one pipelined round trip of PUBLISH commands.
"""

import asyncio
import hashlib
import logging
import re
import threading
import time
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.utils import _consistent_hash
from django.conf import settings
from django.db import transaction

from hub import app_settings, counters, metrics, outbox, protocol
from hub.redis import get_async_layer_redis, get_sync_layer_redis, get_sync_redis

logger = logging.getLogger(__name__)

PUSH_TYPE = "hub.push"  # handled by HubConsumer.hub_push
CLOSE_TYPE = "hub.close"  # handled by HubConsumer.hub_close
USER_CHANGED_TYPE = "hub.user_changed"  # handled by HubConsumer.hub_user_changed
ENCODED_FRAME_KEY = "hub.encoded_frame"
_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_.]")
MAX_GROUP_LENGTH = 99


# --- group names


def _group(kind, name):
    group = f"{settings.HUB_REDIS_PREFIX}.{kind}.{_UNSAFE.sub('_', str(name))}"
    if len(group) > MAX_GROUP_LENGTH or _UNSAFE.search(str(name).replace(":", ".")):
        # Keep names valid and distinct when the readable form would not be.
        group = f"{settings.HUB_REDIS_PREFIX}.{kind}.h{hashlib.sha1(str(name).encode()).hexdigest()}"
    return group


def user_group(user_id):
    return _group("u", user_id)


def session_group(session_key):
    return _group("s", session_key)


def topic_group(topic):
    """The group every socket joined to `topic` (e.g. "room:general") listens on."""
    return _group("t", topic.replace(":", "."))


# --- layer messages


def push_message(topic, event, payload, *, exclude_conn=None, then_leave=False, droppable=False):
    """A layer message for HubConsumer.hub_push; `exclude_conn` is read by Topic.on_push filters only;
    `then_leave` takes each socket that gets the push out of the topic (e.g. removed from a room);
    `droppable` lets the server skip it for a socket that is behind on its output (typing, presence
    diffs: what is stale a second later), so what matters reaches it first."""
    message = {"type": PUSH_TYPE, "topic": topic, "event": event, "payload": payload}
    if exclude_conn is not None:
        message["exclude_conn"] = exclude_conn
    if then_leave:
        message["then_leave"] = True
    if droppable:
        message["droppable"] = True
    return message


def close_message(code):
    """A layer message that closes every socket it reaches with `code` (HubConsumer.hub_close)."""
    return {"type": CLOSE_TYPE, "code": code}


def encoded_push(message, payload):
    """The text frame of a layer push as one socket's handler let it through (`payload`).

    An unchanged payload is the same frame for every socket of this process (hub.layers
    hands them all one decoded message), so it is encoded once and kept on the message
    under a key no push_message() field can take.
    """
    if payload is not message["payload"]:
        return protocol.encode(protocol.push(message["topic"], message["event"], payload))
    frame = message.get(ENCODED_FRAME_KEY)
    if frame is None:
        frame = message[ENCODED_FRAME_KEY] = protocol.encode(protocol.push(message["topic"], message["event"], payload))
    return frame


# --- the pushes apps send


def push_to_topic(topic, event, payload, *, on_commit=True, group=None, exclude_conn=None, droppable=False,
                  then_leave=False):
    """Push to every socket joined to `topic` (those subscribed to `group` when given, e.g. a lobby);
    `then_leave` takes each of them out of the topic (e.g. a document deleted)."""
    message = push_message(topic, event, payload, exclude_conn=exclude_conn, droppable=droppable,
                           then_leave=then_leave)
    _deliver([(group or topic_group(topic), message)], on_commit)


def push_to_users(user_ids, topic, event, payload, *, on_commit=True, then_leave=False):
    """Push to every socket of these users that joined `topic` (and take them out of it, with `then_leave`)."""
    message = push_message(topic, event, payload, then_leave=then_leave)
    _deliver([(user_group(uid), message) for uid in dict.fromkeys(user_ids)], on_commit)


def push_each(pushes, *, on_commit=True, rebuild=None):
    """Different pushes to different users in one round trip: `[(user_id, topic, event, payload)]`.

    E.g. one notification per recipient, each with that recipient's own unread count.
    `pushes` may also be a function returning that list, called when the pushes go out (after
    the commit): for payloads that must be read then, such as counts other writes change. Give
    it `rebuild=(dotted path, args)` of a hub.outbox.rebuildable function returning the same
    list, so the outbox stores that instead (without it, the list is made in the transaction
    for the outbox, which costs the reads twice).
    """
    if not callable(pushes):
        _deliver(each_pairs(pushes), on_commit)
        return
    recipe = None if rebuild is None else {"rebuild": [rebuild[0], rebuild[1]]}
    _deliver(lambda: each_pairs(pushes()), on_commit, recipe=recipe)


def each_pairs(pushes):
    """push_each()'s list as `(group, layer message)` pairs."""
    return [(user_group(uid), push_message(topic, event, payload)) for uid, topic, event, payload in pushes]


async def apush_to_topic(topic, event, payload, *, group=None, exclude_conn=None, droppable=False):
    """push_to_topic() for async code: sent at once."""
    await apublish([group or topic_group(topic)],
                   push_message(topic, event, payload, exclude_conn=exclude_conn, droppable=droppable))


async def apush_to_users(user_ids, topic, event, payload):
    """push_to_users() for async code: sent at once."""
    await apublish([user_group(uid) for uid in user_ids], push_message(topic, event, payload))


def send_to_user(user, topic, event, payload):
    """Push `event` to every socket of `user` that joined `topic`, from sync or async code.

    Called inside a running event loop it schedules the push and returns a task
    (await it to know it was sent); otherwise it sends before returning (after the
    commit when called inside a transaction).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        push_to_users([_user_id(user)], topic, event, payload)
        return None
    return asyncio.ensure_future(asend_to_user(user, topic, event, payload))


async def asend_to_user(user, topic, event, payload):
    """Push `event` to every socket of `user` that joined `topic`."""
    await apush_to_users([_user_id(user)], topic, event, payload)


def users_changed(user_ids):
    """After the commit, every open socket of these users re-reads them (rights, groups, password)."""
    groups = [user_group(uid) for uid in dict.fromkeys(user_ids)]
    if groups:
        _deliver([(group, {"type": USER_CHANGED_TYPE}) for group in groups], on_commit=True)


def _user_id(user):
    return user if isinstance(user, int) else user.pk


# After a failed PUBLISH, pushes go straight to the outbox relay for this long (see _deliver).
REDIS_AWAY_SECS = 2.0
_redis_away_until = 0.0
_local = threading.local()  # the open push_batch() of this thread, if any


class RedisAway(Exception):
    """A push not tried: Redis failed a moment ago."""


@contextmanager
def push_batch():
    """Pushes sent (on commit) inside the block go out together: one outbox row, one round trip to Redis.

    E.g. a chat message's push to its room and to the lobbies. If the block raises, none of
    them is sent (as none would be after a rollback). A nested block joins the outer one.
    """
    if getattr(_local, "batch", None) is not None:
        yield
        return
    batch = _local.batch = []
    try:
        yield
    finally:
        _local.batch = None
    if batch:
        _deliver_after_commit(batch)


def _resolve(pairs):
    return pairs() if callable(pairs) else pairs


def _deliver(pairs, on_commit, *, recipe=None):
    """Publish `pairs` (a list, or a function making it when they go out), after the commit by default."""
    if not on_commit:
        publish_pairs(_resolve(pairs))
        return
    batch = getattr(_local, "batch", None)
    if batch is not None:
        batch.append((pairs, recipe))
        return
    _deliver_after_commit([(pairs, recipe)])


def _deliver_after_commit(parts):
    """Publish every part's pairs in one round trip after the commit; `parts` are `(pairs, recipe)`.

    Inside a transaction they are also written to the outbox (hub.outbox) in it, as one row,
    and that row is marked published in the same round trip: if this process dies before it
    publishes, or Redis is away, the relay of a server process sends it. Outside one, a failed
    PUBLISH is written to the outbox then. Either way the write that committed never fails
    for Redis.
    """
    def stored():
        records = [recipe or {"pairs": _resolve(pairs)} for pairs, recipe in parts]
        return records[0] if len(records) == 1 else {"all": records}

    entry_id = outbox.record(stored()) if transaction.get_connection().in_atomic_block else None

    def publish_after_commit():
        global _redis_away_until
        committed = time.monotonic()
        try:
            if committed < _redis_away_until:
                raise RedisAway(f"a PUBLISH failed less than {REDIS_AWAY_SECS} s ago")
            publish_pairs([pair for pairs, _ in parts for pair in _resolve(pairs)], outbox_entry=entry_id)
            metrics.observe_push_latency(time.monotonic() - committed)
        except Exception as error:
            if not isinstance(error, RedisAway):
                counters.count("redis_errors", "publish")
                # redis-py retries a refused connection for seconds: while Redis is away, writes
                # leave their pushes to the relay at once instead of each waiting that long.
                _redis_away_until = time.monotonic() + REDIS_AWAY_SECS
            if entry_id is None:
                try:
                    outbox.record(stored())
                except Exception:
                    logger.exception("live push failed (%s) and could not be kept in the outbox; "
                                     "clients get it when they resume", error)
                    return
            logger.warning("live push failed (%s); the outbox relay sends it within %s s",
                           error, app_settings.OUTBOX_AFTER_SECS)

    transaction.on_commit(publish_after_commit)


# --- the layer underneath


def _pubsub_channel(group):
    # Mirrors channels_redis.pubsub: the Redis channel a group's PUBLISH goes to.
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}__group__{group}"


def _can_pipeline():
    return settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("RedisPubSubChannelLayer")


def _shard(channel):
    """The layer shard a Redis channel lives on, as channels-redis picks it (HUB_LAYER_REDIS_URLS; 0 without)."""
    return _consistent_hash(channel, len(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]))


def _by_shard(publishes):
    """{shard index: [(Redis channel, data), ...]} of `(group, data)` PUBLISHes, in their order."""
    found = {}
    for group, data in publishes:
        channel = _pubsub_channel(group)
        found.setdefault(_shard(channel), []).append((channel, data))
    return found


def publish(groups, message):
    """Send one layer message to many groups from sync code, in one pipelined round trip."""
    publish_pairs([(group, message) for group in dict.fromkeys(groups)])


def publish_pairs(pairs, *, outbox_entry=None):
    """Send each `(group, message)`, from sync code, in one pipelined round trip per layer shard.

    `outbox_entry`: the outbox row these pushes were stored in, marked published in the main
    Redis: in the same round trip when the layer has one host (the main Redis), after the
    PUBLISHes otherwise.
    """
    if not pairs and outbox_entry is None:
        return
    layer = get_channel_layer()
    if not _can_pipeline():
        async def send_each():
            for group, message in pairs:
                await layer.group_send(group, message)

        async_to_sync(send_each)()
        counters.count("pushes_published", n=len(pairs))
        if outbox_entry is not None:
            outbox.mark_published(get_sync_redis(), outbox_entry)
        return
    encoded = {}
    for _, message in pairs:  # a group may come twice, with different messages: each pair is sent
        if id(message) not in encoded:
            encoded[id(message)] = layer.serialize(message)
    marked = False
    for index, publishes in _by_shard([(group, encoded[id(message)]) for group, message in pairs]).items():
        pipe = get_sync_layer_redis(index).pipeline(transaction=False)
        for channel, data in publishes:
            pipe.publish(channel, data)
        if outbox_entry is not None and not settings.HUB_LAYER_REDIS_URLS:
            outbox.mark_published(pipe, outbox_entry)
            marked = True
        pipe.execute()
    if outbox_entry is not None and not marked:
        outbox.mark_published(get_sync_redis(), outbox_entry)
    counters.count("pushes_published", n=len(pairs))


async def apublish(groups, message):
    """Send one layer message to many groups from async code, in one pipelined round trip per layer shard."""
    groups = list(dict.fromkeys(groups))
    if not groups:
        return
    layer = get_channel_layer()
    if len(groups) == 1 or not _can_pipeline():
        for group in groups:
            await layer.group_send(group, message)
        counters.count("pushes_published", n=len(groups))
        return
    data = layer.serialize(message)
    for index, publishes in _by_shard([(group, data) for group in groups]).items():
        async with get_async_layer_redis(index).pipeline(transaction=False) as pipe:
            for channel, payload in publishes:
                pipe.publish(channel, payload)
            await pipe.execute()
    counters.count("pushes_published", n=len(groups))

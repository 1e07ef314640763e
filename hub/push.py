"""Pushes to sockets through the channel layer, from sync or async code.

Group names are made here and only here (channels allows `[a-zA-Z0-9-_.]` and
at most 100 characters, so topic names like "room:general" are mapped).
Fan-out to many groups is one pipelined round trip of PUBLISH commands, not one
round trip per group.
"""

import asyncio
import hashlib
import logging
import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from hub.redis import get_async_redis, get_sync_redis

logger = logging.getLogger(__name__)

PUSH_TYPE = "hub.push"  # handled by HubConsumer.hub_push
CLOSE_TYPE = "hub.close"  # handled by HubConsumer.hub_close
_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_.]")
MAX_GROUP_LENGTH = 99


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


def push_message(topic, event, payload, **extra):
    """A layer message for HubConsumer.hub_push; `extra` is seen by Topic.on_push only."""
    return {"type": PUSH_TYPE, "topic": topic, "event": event, "payload": payload, **extra}


def _pubsub_channel(group):
    # Mirrors channels_redis.pubsub: the Redis channel a group's PUBLISH goes to.
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}__group__{group}"


def _can_pipeline(layer):
    config = settings.CHANNEL_LAYERS["default"]
    return config["BACKEND"].endswith("RedisPubSubChannelLayer") and len(config["CONFIG"]["hosts"]) == 1


async def agroup_send_many(groups, message):
    """Send one message to many groups in one pipelined round trip."""
    groups = list(dict.fromkeys(groups))
    if not groups:
        return
    layer = get_channel_layer()
    if len(groups) == 1 or not _can_pipeline(layer):
        for group in groups:
            await layer.group_send(group, message)
        return
    data = layer.serialize(message)
    async with get_async_redis().pipeline(transaction=False) as pipe:
        for group in groups:
            pipe.publish(_pubsub_channel(group), data)
        await pipe.execute()


def group_send_many(groups, message):
    """Sync twin of agroup_send_many for views, commands and on-commit callbacks."""
    groups = list(dict.fromkeys(groups))
    if not groups:
        return
    layer = get_channel_layer()
    if not _can_pipeline(layer):
        async_to_sync(agroup_send_many)(groups, message)
        return
    data = layer.serialize(message)
    pipe = get_sync_redis().pipeline(transaction=False)
    for group in groups:
        pipe.publish(_pubsub_channel(group), data)
    pipe.execute()


def send_batch(pushes):
    """Different pushes to different users in one pipelined round trip.

    `pushes`: [(user_id, topic, event, payload)], e.g. one notification per recipient
    with that recipient's own unread count.
    """
    pushes = list(pushes)
    if not pushes:
        return
    layer = get_channel_layer()
    if not _can_pipeline(layer):
        async def _send_each():
            for user_id, topic, event, payload in pushes:
                await layer.group_send(user_group(user_id), push_message(topic, event, payload))

        async_to_sync(_send_each)()
        return
    pipe = get_sync_redis().pipeline(transaction=False)
    for user_id, topic, event, payload in pushes:
        pipe.publish(_pubsub_channel(user_group(user_id)), layer.serialize(push_message(topic, event, payload)))
    pipe.execute()


async def asend_to_users(user_ids, topic, event, payload, **extra):
    await agroup_send_many([user_group(uid) for uid in user_ids], push_message(topic, event, payload, **extra))


def send_to_users(user_ids, topic, event, payload, **extra):
    group_send_many([user_group(uid) for uid in user_ids], push_message(topic, event, payload, **extra))


async def asend_to_user(user, topic, event, payload):
    """Push `event` to every socket of `user` that joined `topic`."""
    await asend_to_users([_user_id(user)], topic, event, payload)


def send_to_user(user, topic, event, payload):
    """Push `event` to every socket of `user` that joined `topic`, from sync or async code.

    Called inside a running event loop it schedules the push and returns a task
    (await it to know it was sent); otherwise it sends before returning.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send_to_users([_user_id(user)], topic, event, payload)
        return None
    return asyncio.ensure_future(asend_to_user(user, topic, event, payload))


def send_on_commit(send, *args, **kwargs):
    """Run a sync push after the current transaction commits; a failed push is logged, not raised.

    The row is already committed at that point and clients resume with `since`,
    so a Redis outage must not turn a successful write into an error.
    """

    def _send():
        try:
            send(*args, **kwargs)
        except Exception:
            logger.warning("live push failed; clients will catch up on their next join", exc_info=True)

    transaction.on_commit(_send)


def _user_id(user):
    return user if isinstance(user, int) else user.pk

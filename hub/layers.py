"""Channel layers: the pub/sub layer with shared decoding, and the core layer with a blocking pool.

FanoutRedisPubSubChannelLayer (the default) decodes each group message once per process
instead of once per socket.

channels-redis's pub/sub layer receives a group message once per process and puts the
same bytes object into the queue of every local channel in the group; each consumer's
`receive()` then deserializes it again. For a push to 2,000 sockets that is 2,000 msgpack
decodes of identical bytes. Here the decoded message is remembered for the few messages
in flight, so every socket of the process gets the same dict.

Consumers must therefore treat layer messages as read-only (HubConsumer does; see
`hub_push`, which caches the encoded frame on the message for the same reason).
"""

import asyncio
import collections
import logging
import types

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from redis import asyncio as aioredis

from hub import fanout
from hub.protocol import CLOSE_RESUME
from hub.push import close_message
from hub.redis import MAX_CONNECTIONS, POOL_WAIT_SECS
from hub.socket_memory import SocketQueue

logger = logging.getLogger(__name__)

# Messages in flight at once in one process: a push is consumed by every socket within
# one pass of the event loop, so a short memory is enough; older entries just decode again.
DECODED_MEMORY = 64


class FanoutRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._decoded = collections.OrderedDict()

    def _get_layer(self):
        layer = super()._get_layer()
        if not getattr(layer, "hub_resume_installed", False):
            layer.hub_resume_installed = True
            _light_channel_queues(layer)
            for shard in layer._shards:
                _resume_sockets_after_reconnect(self, layer, shard)
                _stop_receiving_when_cancelled(shard)
                _deliver_directly(self, layer, shard)
        return layer

    async def forget_channel(self, channel):
        """Unsubscribe a closed socket's own channel now, and drop its queue (hub.subscriptions calls this).

        channels-redis does it when the consumer's pending read of the channel is cancelled; but a
        push that arrives while the consumer handles its disconnect (it is busy, so the push is
        queued) completes that read, channels' dispatcher then never cancels it, and the channel
        stayed subscribed, in Redis and here, for good.
        """
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is None:
            return
        try:
            await layer._get_shard(channel).unsubscribe(channel)
        except Exception:
            logger.warning("could not unsubscribe closed channel %s", channel, exc_info=True)

    def deserialize(self, message):
        # bytes cache their hash, so a hit costs one dict lookup after the first socket.
        decoded = self._decoded.get(message)
        if decoded is None:
            decoded = super().deserialize(message)
            self._decoded[message] = decoded
            if len(self._decoded) > DECODED_MEMORY:
                self._decoded.popitem(last=False)
        return decoded


def _light_channel_queues(loop_layer):
    """channels-redis's `_subscribe_to_channel`, queueing each local channel in a hub.socket_memory.SocketQueue.

    The library's asyncio.Queue is 3.3 KiB, and every open socket has one for its own channel.
    """

    async def subscribe_to_channel(channel):
        loop_layer.channels[channel] = SocketQueue()
        await loop_layer._get_shard(channel).subscribe(channel)

    loop_layer._subscribe_to_channel = subscribe_to_channel


def _resume_sockets_after_reconnect(outer, loop_layer, shard):
    """When the subscriber connection to Redis comes back, every local socket resumes.

    redis-py re-subscribes by itself after a dropped connection, but whatever was
    published while it was down never arrives, and the sockets stay open, so their
    clients would never ask for it. Each local socket is told to close with CLOSE_RESUME (4500);
    clients reconnect (with jittered backoff) and re-join with `since`.
    The hook is redis-py's own reconnect callback, `PubSub.on_connect`, which runs on
    every reconnect of the subscriber connection and never on its first connect.
    """
    ensure_redis = shard._ensure_redis

    def ensure_redis_with_hook():
        fresh = shard._pubsub is None
        ensure_redis()
        if fresh and shard._pubsub is not None:
            resubscribe = shard._pubsub.on_connect

            async def on_reconnect(pubsub, connection):
                await resubscribe(connection)
                channels = list(loop_layer.channels.values())
                logger.warning("the pub/sub connection to Redis came back; %d local sockets will resume",
                               len(channels))
                message = outer.serialize(close_message(CLOSE_RESUME))
                for queue in channels:
                    queue.put_nowait(message)

            # A bound method: redis-py keeps connect callbacks as weak method references.
            shard._pubsub.on_connect = types.MethodType(on_reconnect, shard._pubsub)

    shard._ensure_redis = ensure_redis_with_hook


def _deliver_directly(outer, loop_layer, shard):
    """channels-redis's `_receive_message`, handing each group message to hub.fanout for every local socket.

    The same lookups as the library's (a channel's own messages, then a group's channels), but a
    socket that may take the short path gets the push written now; the others get it queued as
    before, and counted, so no direct push overtakes it.
    """
    def receive_message(message):
        if message is None:
            return
        name, data = message["channel"], message["data"]
        if isinstance(name, bytes):
            name = name.decode()
        channels = loop_layer.channels
        if name in channels:
            channels[name].put_nowait(data)
            fanout.queued(name)
            return
        decoded = []

        def decode():
            if not decoded:
                decoded.append(outer.deserialize(data))
            return decoded[0]

        for channel_name in list(loop_layer.groups.get(name, ())):
            queue = channels.get(channel_name)
            if queue is None:
                continue
            try:
                if fanout.deliver(channel_name, queue, decode):
                    continue
            except Exception:
                logger.exception("direct delivery to %s failed; queueing the push instead", channel_name)
            queue.put_nowait(data)
            fanout.queued(channel_name)

    shard._receive_message = receive_message


def _stop_receiving_when_cancelled(shard):
    """channels-redis's receive loop, ending once its task is cancelled even if redis-py swallowed the cancel.

    redis-py 8 sometimes swallows a cancellation that lands in the middle of a command (about one
    in five, measured with a loop of commands); the library's `while True` loop then polls on
    forever after `flush()` or a loop's shutdown cancelled it, and whoever awaits it hangs.
    """

    async def do_receiving():
        task = asyncio.current_task()
        while not task.cancelling():
            try:
                if shard._pubsub and shard._pubsub.subscribed:
                    message = await shard._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    shard._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, asyncio.TimeoutError, GeneratorExit):
                raise
            except BaseException:
                logger.exception("Unexpected exception in receive task")
                await asyncio.sleep(1)

    shard._do_receiving = do_receiving


class BlockingRedisChannelLayer(RedisChannelLayer):
    """The list-based core layer (HUB_CHANNEL_LAYER=core), waiting for a free connection under a burst.

    channels-redis builds a plain redis-py pool, which raises "Too many connections" past
    100 connections in use: a few hundred sockets connecting at once then fail with CLOSE_RESUME.
    """

    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:  # Sentinel or keyword hosts: channels-redis's own pool
            return super().create_pool(index)
        return aioredis.BlockingConnectionPool.from_url(
            host.pop("address"), max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECS, **host)

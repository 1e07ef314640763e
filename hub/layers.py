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

import collections

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from redis import asyncio as aioredis

from hub.redis import MAX_CONNECTIONS, POOL_WAIT_SECS

# Messages in flight at once in one process: a push is consumed by every socket within
# one pass of the event loop, so a short memory is enough; older entries just decode again.
DECODED_MEMORY = 64


class FanoutRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._decoded = collections.OrderedDict()

    def deserialize(self, message):
        # bytes cache their hash, so a hit costs one dict lookup after the first socket.
        decoded = self._decoded.get(message)
        if decoded is None:
            decoded = super().deserialize(message)
            self._decoded[message] = decoded
            if len(self._decoded) > DECODED_MEMORY:
                self._decoded.popitem(last=False)
        return decoded


class BlockingRedisChannelLayer(RedisChannelLayer):
    """The list-based core layer (HUB_CHANNEL_LAYER=core), waiting for a free connection under a burst.

    channels-redis builds a plain redis-py pool, which raises "Too many connections" past
    100 connections in use: a few hundred sockets connecting at once then fail with 4500.
    """

    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:  # Sentinel or keyword hosts: channels-redis's own pool
            return super().create_pool(index)
        return aioredis.BlockingConnectionPool.from_url(
            host.pop("address"), max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECS, **host)

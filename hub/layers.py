"""The pub/sub channel layer, decoding each group message once per process instead of once per socket.

channels-redis's pub/sub layer receives a group message once per process and puts the
same bytes object into the queue of every local channel in the group; each consumer's
`receive()` then deserializes it again. For a push to 2,000 sockets that is 2,000 msgpack
decodes of identical bytes. Here the decoded message is remembered for the few messages
in flight, so every socket of the process gets the same dict.

Consumers must therefore treat layer messages as read-only (HubConsumer does; see
`hub_push`, which caches the encoded frame on the message for the same reason).
"""

import collections

from channels_redis.pubsub import RedisPubSubChannelLayer

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

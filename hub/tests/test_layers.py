"""The channel layers of hub/layers.py, over the real test Redis."""

import asyncio

from django.conf import settings

from hub.layers import BlockingRedisChannelLayer, FanoutRedisPubSubChannelLayer

BURST = 300  # above redis-py's default pool size of 100


def _hosts():
    return [{"address": settings.REDIS_URL, "socket_timeout": 30}]


async def test_core_layer_survives_a_burst_larger_than_redis_pys_pool():
    layer = BlockingRedisChannelLayer(hosts=_hosts(), prefix="hub.test-core")
    channels = [await layer.new_channel() for _ in range(BURST)]
    # All at once, as when hundreds of sockets connect together: each takes a connection.
    await asyncio.gather(*(layer.group_add("burst", channel) for channel in channels))
    await layer.group_send("burst", {"type": "hub.push", "n": 1})
    received = await asyncio.gather(*(layer.receive(channel) for channel in channels))
    assert [message["n"] for message in received] == [1] * BURST
    await layer.flush()


async def test_pubsub_layer_hands_every_local_socket_one_decoded_group_message():
    layer = FanoutRedisPubSubChannelLayer(hosts=_hosts(), prefix="hub.test-pubsub")
    try:
        channels = [await layer.new_channel() for _ in range(3)]
        for channel in channels:
            await layer.group_add("fanout", channel)
        await layer.group_send("fanout", {"type": "hub.push", "payload": {"text": "hi"}})
        received = [await asyncio.wait_for(layer.receive(channel), 5) for channel in channels]
        assert received[0] == {"type": "hub.push", "payload": {"text": "hi"}}
        assert received[0] is received[1] is received[2]
        # A different message is decoded on its own.
        await layer.group_send("fanout", {"type": "hub.push", "payload": {"text": "bye"}})
        again = await asyncio.wait_for(layer.receive(channels[0]), 5)
        assert again["payload"] == {"text": "bye"}
    finally:
        await layer.flush()

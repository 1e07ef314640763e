"""The channel layers of hub/layers.py, over the real test Redis."""

import asyncio

import pytest
from channels.db import database_sync_to_async
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


@pytest.mark.django_db(transaction=True)
async def test_a_push_that_comes_while_a_socket_closes_leaves_no_channel_subscribed(amake_user):
    """While the consumer handles its disconnect it is busy, so pushes for it are queued, and one can complete
    the layer read; channels' dispatcher then never cancels that read, and the pub/sub layer's own clean-up
    (on that cancellation) does not run: the socket's channel stayed subscribed in Redis and in the process
    for good (a soak's churn left one in about 240 connections)."""
    from channels.layers import get_channel_layer

    from hub import lifecycle
    from hub.asgi import application
    from hub.push import push_message
    from hub.testing.communicator import HubCommunicator, handshake_headers, session_cookie_for

    user = await amake_user("closer")
    layer = get_channel_layer()
    loop_layer = layer._get_layer()

    class PushWhileClosing:
        async def disconnected(self, conn):
            loop_layer.channels[conn.channel_name].put_nowait(layer.serialize(push_message("nope", "x", {})))

    listener = PushWhileClosing()
    lifecycle.add_listener(listener)
    try:
        before = set(loop_layer.channels)
        comm = HubCommunicator(application, "/ws/", headers=handshake_headers(
            await database_sync_to_async(session_cookie_for)(user)))
        assert (await comm.connect(timeout=5))[0]
        assert (await comm.receive_json_from(timeout=5))["event"] == "hello"
        (channel,) = set(loop_layer.channels) - before
        await comm.disconnect()
    finally:
        lifecycle._listeners.remove(listener)
    assert channel not in loop_layer.channels
    assert all(channel not in shard._subscribed_to for shard in loop_layer._shards)

"""hub.socket_memory: the light inbound queues of every socket (alone, inside daphne, inside the layer) and
the upgrade request a socket lets go of."""

import asyncio

import pytest
from django.conf import settings

from hub import socket_memory
from hub.layers import FanoutRedisPubSubChannelLayer
from hub.socket_memory import COMPACT_AFTER, SocketQueue


async def test_items_come_out_in_order_across_bursts_and_compaction():
    queue = SocketQueue()
    sent, got = 0, []
    for burst in (1, COMPACT_AFTER * 3, 5, COMPACT_AFTER + 1):
        for _ in range(burst):
            queue.put_nowait(sent)
            sent += 1
        for _ in range(burst // 2 + 1):  # read part of each burst: the head moves, the list compacts
            got.append(await queue.get())
    while not queue.empty():
        got.append(queue.get_nowait())
    assert got == list(range(sent))
    assert queue.qsize() == 0
    assert len(queue._items) < COMPACT_AFTER  # a drained burst does not keep its slots
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def test_a_waiting_reader_wakes_on_put():
    queue = SocketQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)  # one pass of the loop: the reader is now waiting
    assert not reader.done()
    queue.put_nowait("frame")
    assert await asyncio.wait_for(reader, 5) == "frame"


async def test_a_cancelled_reader_takes_nothing():
    queue = SocketQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    queue.put_nowait("kept")
    assert await asyncio.wait_for(queue.get(), 5) == "kept"


async def test_two_readers_each_get_one_item():
    queue = SocketQueue()
    readers = [asyncio.ensure_future(queue.get()) for _ in range(2)]
    await asyncio.sleep(0)
    queue.put_nowait(1)
    queue.put_nowait(2)
    assert sorted(await asyncio.wait_for(asyncio.gather(*readers), 5)) == [1, 2]


class _Protocol:
    """Stands in for daphne's WebSocketProtocol: what the application sends back lands here."""

    def __init__(self):
        self.replies = []

    def handle_reply(self, message):
        self.replies.append(message)


async def test_daphne_gives_each_connection_a_socket_queue():
    from daphne.server import Server

    socket_memory.install()

    async def echo(scope, receive, send):
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"], "path": scope["path"]})

    server = Server(application=echo, endpoints=["tcp:port=0:interface=127.0.0.1"])  # never run: no socket opens
    protocol = _Protocol()
    server.connections = {protocol: {}}
    queue = server.create_application(protocol, {"type": "websocket", "path": "/ws/"})
    assert isinstance(queue, SocketQueue)
    queue.put_nowait({"type": "websocket.receive", "text": "hello"})
    await asyncio.wait_for(server.connections[protocol]["application_instance"], 5)
    assert protocol.replies == [{"type": "websocket.send", "text": "hello", "path": "/ws/"}]


async def test_the_pubsub_layer_queues_each_channel_in_a_socket_queue():
    layer = FanoutRedisPubSubChannelLayer(
        hosts=[{"address": settings.REDIS_URL, "socket_timeout": 30}], prefix="hub.test-socket-queue")
    try:
        channel = await layer.new_channel()
        assert isinstance(layer._get_layer().channels[channel], SocketQueue)
        await layer.send(channel, {"type": "hub.push", "n": 1})
        assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == 1
    finally:
        await layer.flush()


def test_the_upgrade_request_is_let_go_once_the_socket_has_the_transport():
    from twisted.internet.testing import StringTransport
    from twisted.web.http import HTTPChannel

    transport = StringTransport()
    channel = HTTPChannel()
    channel.makeConnection(transport)  # registers itself as the transport's producer, as for every request
    assert transport.producer is channel
    socket_memory.release_upgrade_request(transport)
    assert transport.producer is None
    channel.connectionLost(None)


def test_a_producer_that_is_not_the_upgrade_request_stays():
    from twisted.internet.testing import StringTransport

    class Producer:
        def pauseProducing(self):
            pass

        def resumeProducing(self):
            pass

        def stopProducing(self):
            pass

    transport = StringTransport()
    producer = Producer()
    transport.registerProducer(producer, True)
    socket_memory.release_upgrade_request(transport)
    assert transport.producer is producer

"""What each open socket holds for its life, cut down: its inbound queues and the upgrade's HTTP objects.

Why this exists: issue 12 asks for under 40 KiB of server memory per idle socket, and a
profile of 10,000 idle sockets (docs/performance.md, "Idle sockets") found two things held
for a socket's whole life that it does not need:
- Two inbound queues: daphne's application queue (frames from the client) and the pub/sub
  channel layer's queue for the socket's own channel (layer messages hub.fanout could not
  write directly). An empty `asyncio.Queue` is 3.3 KiB (its items, getters and putters
  deques and its `join()` Event's deque: four 760-byte blocks). Neither is bounded, joined
  or read by more than one reader at a time, so a list and one future do the job:
  `SocketQueue`, with the part of asyncio.Queue's interface daphne and channels-redis use.
  `install()` makes daphne create its application queues with it; hub.layers makes the
  channel layer's queues with it.
- The HTTP request the socket was upgraded from. Twisted's HTTPChannel registers itself as
  the TCP transport's producer when the connection opens; daphne moves the transport to the
  WebSocket protocol but leaves that registration, so the transport keeps the channel, the
  channel its never-finished request, and the request its headers and body buffer. While a
  request is being handled (an upgrade never stops being one) the channel's pause and resume
  do nothing, so `install()` unregisters it once the WebSocket protocol has the transport.
"""

import asyncio

# A drained head is cut off the list once it is this long and over half the list, so a
# burst read in order costs O(1) a message and a long-lived socket does not keep the burst's slots.
COMPACT_AFTER = 32


class SocketQueue:
    """An unbounded FIFO for one reader at a time (several are safe: each waits on the same future)."""

    __slots__ = ("_items", "_head", "_waiter")

    def __init__(self):
        self._items = []
        self._head = 0  # items before it were taken
        self._waiter = None  # the future a reader waits on while the queue is empty

    def qsize(self):
        return len(self._items) - self._head

    def empty(self):
        return self._head >= len(self._items)

    def put_nowait(self, item):
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def put(self, item):
        self.put_nowait(item)

    def get_nowait(self):
        items, head = self._items, self._head
        if head >= len(items):
            raise asyncio.QueueEmpty
        item, items[head] = items[head], None
        head += 1
        if head == len(items):
            items.clear()
            head = 0
        elif head >= COMPACT_AFTER and head * 2 >= len(items):
            del items[:head]
            head = 0
        self._head = head
        return item

    async def get(self):
        while self.empty():
            waiter = self._waiter
            if waiter is None or waiter.done():
                waiter = self._waiter = asyncio.get_running_loop().create_future()
            # A cancelled get() takes nothing: the item stays for the next reader.
            await waiter
        return self.get_nowait()


def install():
    """daphne creates application queues as SocketQueues and lets go of each socket's upgrade request (daphne 4.2)."""
    try:
        from daphne import server, ws_protocol
    except ImportError:  # another ASGI server keeps its own queues and requests
        return
    if getattr(server.Server, "hub_socket_memory", False):
        return
    server.Server.create_application = _create_application
    connection_made = ws_protocol.WebSocketProtocol.connectionMade

    def connectionMade(self):
        release_upgrade_request(self.transport)
        connection_made(self)

    ws_protocol.WebSocketProtocol.connectionMade = connectionMade
    server.Server.hub_socket_memory = True


def _create_application(self, protocol, scope):
    # daphne 4.2's Server.create_application but for the queue's class ("assert" and all, as daphne has it).
    from functools import partial

    assert "application_instance" not in self.connections[protocol]
    input_queue = SocketQueue()
    scope.setdefault("asgi", {"version": "3.0"})
    application_instance = self.application(
        scope=scope, receive=input_queue.get, send=partial(self.handle_reply, protocol))
    if protocol not in self.connections:
        return None
    self.connections[protocol]["application_instance"] = asyncio.ensure_future(
        application_instance, loop=asyncio.get_event_loop())
    return input_queue


def release_upgrade_request(transport):
    """Unregister the HTTPChannel a socket was upgraded from as its transport's producer, so it can be freed.

    Plain TCP only: under daphne's own TLS the channel is registered with the TLS wrapper, which
    keeps it as before (most deployments end TLS at a proxy in front of daphne).
    """
    from twisted.web.http import HTTPChannel

    if isinstance(getattr(transport, "producer", None), HTTPChannel):
        transport.unregisterProducer()

"""Per-process fan-out: a push reaches each idle local socket without a queue, a task wake-up or a dispatch.

Why this exists: a profile of daphne at saturation (docs/performance.md) spent about a quarter
of its time in Channels' per-socket dispatch of each push (a queue put, a task wake-up,
`await_many_dispatch`, `dispatch`, `hub_push`) and a sixth in daphne's send path, which
encodes and frames the same text again for every socket. Here the pub/sub layer
(hub.layers) hands each group message to `deliver()`, which writes one prepared WebSocket
frame (autobahn's PreparedMessage: server frames are unmasked, so the bytes are the same for
every socket) straight to each local socket's daphne protocol.

When a push may not take the short path it goes through the socket's queue as before, so
nothing changes for it:
- the socket is not served by daphne (another ASGI server, the test communicator): nothing is
  registered for it;
- the socket is busy (handling a frame or a layer message) or has layer messages waiting:
  a reply and a push never swap, and queued pushes stay ahead of newer ones;
- the message is not a plain push (closes, user changes), or it takes the socket out of the
  topic (`then_leave`), or the topic's handler filters that event (`Topic.filters(event)`:
  its async on_push looks at it).
A topic that only cuts a push down without I/O (`Topic.reshape`, e.g. presence diffs of a
large set keeping the users each socket watches) keeps the short path: a payload shared by
many sockets is framed once per process, one socket's own payload for it alone.
The output cap and droppable pushes (hub.daphne_limits) apply exactly as on the queue path.
"""

import contextlib
import functools
import logging

from hub import counters
from hub.counters import loop_counts
from hub.push import PUSH_TYPE, encoded_push
from hub.topics import SharedPayload

logger = logging.getLogger(__name__)
PREPARED_KEY = "hub.prepared_frames"  # id(payload) -> (payload, PreparedMessage) of shared payloads
COUNT_KEY = "hub.count_key"  # the message's hub.counters key, made once per process
_sockets = {}  # channel name -> consumer, for sockets daphne serves


def daphne_protocol(send):
    """The daphne WebSocket protocol behind an ASGI `send`, or None.

    daphne passes `partial(server.handle_reply, protocol)`; channels' session middleware wraps it
    in a bound `send` whose instance keeps it as `real_send` (followed a few levels at most).
    """
    for _ in range(4):
        if isinstance(send, functools.partial):
            return send.args[0] if send.args and hasattr(send.args[0], "sendPreparedMessage") else None
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def register(consumer):
    """Let pushes reach this socket directly (a no-op unless daphne serves it)."""
    consumer.protocol = daphne_protocol(consumer.base_send)
    if consumer.protocol is not None and hasattr(consumer.protocol, "enforce_cap"):
        _sockets[consumer.channel_name] = consumer


def unregister(consumer):
    _sockets.pop(getattr(consumer, "channel_name", None), None)


@contextlib.contextmanager
def handling(consumer, message):
    """Around the consumer's handling of any message: it is busy, and one queued layer message is done after."""
    consumer.busy += 1
    try:
        yield
    finally:
        consumer.busy -= 1
        if consumer.layer_backlog and message["type"].startswith("hub."):
            consumer.layer_backlog -= 1


def queued(channel_name):
    """The layer put a message in this socket's queue: it must be dispatched before any direct push."""
    consumer = _sockets.get(channel_name)
    if consumer is not None:
        consumer.layer_backlog += 1


def deliver(channel_name, queue, decode):
    """Write a group message to one socket now if it may take the short path; False to queue it instead.

    `decode()` returns the decoded layer message (shared by every socket of the process).
    """
    consumer = _sockets.get(channel_name)
    if consumer is None or consumer.busy or consumer.layer_backlog or not queue.empty():
        return False
    message = decode()
    if message.get("type") != PUSH_TYPE or message.get("then_leave"):
        return False
    if consumer.closed:
        return True  # the queue path would drop it too
    handler = consumer.topics.get(message["topic"])
    if handler is None:
        return True  # not joined: the queue path's hub_push would drop it
    if handler.filters(message["event"]):
        return False
    protocol = consumer.protocol
    if protocol.state != protocol.STATE_OPEN:
        return True
    payload = handler.reshape(message["event"], message["payload"])
    if payload is None:
        return True
    if protocol.skips_droppable(message.get("droppable")) or not protocol.enforce_cap():
        return True
    prepared = _prepared(protocol, message, payload)
    key = message.get(COUNT_KEY)
    if key is None:
        key = message[COUNT_KEY] = ("frames_out", handler.topic.split(":", 1)[0], message["event"])
    loop_counts[key] += 1
    _write(consumer, protocol, prepared)
    return True


def _write(consumer, protocol, prepared):
    """Hand a prepared frame to the kernel now if nothing waits before it, else to Twisted's buffer."""
    try:
        if protocol._perMessageCompress is None and _send_now(protocol, prepared.payloadHybi):
            return
        protocol.sendPreparedMessage(prepared)
    except Exception:
        logger.debug("dropped a prepared frame for closing connection %s", consumer.conn_id, exc_info=True)


def _served(consumer):
    """The daphne protocol of a socket this module writes to directly (see register()), else None."""
    return consumer.protocol if _sockets.get(getattr(consumer, "channel_name", None)) is consumer else None


def is_behind(consumer, share):
    """Whether more than `share` of HUB_MAX_BUFFERED waits unsent for this socket (never for one not served here)."""
    protocol = _served(consumer)
    return protocol is not None and protocol.is_behind(share)


def write_prepared(consumer, prepared):
    """Write one frame, framed once for many sockets (`prepared`: from `prepare()`), as deliver() writes a push.

    For code that sends the same frame to many sockets itself (live streams' feeds): the same output-cap
    check and the same short write. False if this module does not serve the socket (send it through the
    consumer instead).
    """
    protocol = _served(consumer)
    if protocol is None:
        return False
    if protocol.state == protocol.STATE_OPEN and protocol.enforce_cap():
        _write(consumer, protocol, prepared)
    return True


def prepare(consumers, text):
    """The prepared frame of `text` for write_prepared(), made by the first socket served here; None if none is."""
    for consumer in consumers:
        protocol = _served(consumer)
        if protocol is not None:
            return protocol.factory.prepareMessage(text.encode("utf8"))
    return None


async def send_queued(consumer, message, payload):
    """Write a push that came through the socket's queue (the consumer's hub_push), counted like the short path's."""
    if consumer.closed:
        return
    counters.count("frames_out", message["topic"].split(":", 1)[0], message["event"])
    await consumer.send_encoded(encoded_push(message, payload), droppable=message.get("droppable", False))


def _prepared(protocol, message, payload):
    """The prepared frame of `payload` as a push of `message`; made once per process for a shared payload.

    A shared payload is the message's own, or a `hub.topics.SharedPayload` that a topic's
    reshape() hands to many sockets. Their frames are kept on the message, which the layer
    shares among the process's sockets while the push is delivered; one socket's own payload
    is framed for it alone.
    """
    if payload is not message["payload"] and not isinstance(payload, SharedPayload):
        return protocol.factory.prepareMessage(encoded_push(message, payload).encode("utf8"))
    frames = message.get(PREPARED_KEY)
    if frames is None:
        frames = message[PREPARED_KEY] = {}
    found = frames.get(id(payload))
    if found is None or found[0] is not payload:
        found = frames[id(payload)] = (payload, protocol.factory.prepareMessage(
            encoded_push(message, payload).encode("utf8")))  # the payload is kept: its id stays unique
    return found[1]


def _send_now(protocol, frame):
    """Hand the frame to the kernel at once when nothing waits before it; False to leave it to Twisted.

    Twisted's transport buffers every write and registers a writer with the reactor, which
    sends on its next turn and unregisters: two selector changes per frame per socket, a fifth
    of daphne's time at saturation (docs/performance.md). With nothing buffered before it,
    the frame can go now; what the kernel does not take goes to Twisted's buffer as before, so
    order and the output cap's count (hub.daphne_limits.queued_bytes) stay right. Plain TCP
    only: under TLS the bytes must go through the TLS transport.
    """
    transport = protocol.transport
    if (type(transport) is not _tcp_server() or not transport.connected or transport._writeDisconnected
            or transport._tempDataLen or len(transport.dataBuffer) != transport.offset or protocol.send_queue):
        return False
    try:
        sent = transport.socket.send(frame)
    except BlockingIOError:
        sent = 0
    except OSError:
        return False  # let Twisted see the error and lose the connection its own way
    if sent < len(frame):
        transport.write(frame[sent:])
    return True


@functools.cache
def _tcp_server():
    from twisted.internet import tcp

    return tcp.Server

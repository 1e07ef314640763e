"""Make daphne enforce HUB_MAX_FRAME with close code 1009, HUB_MAX_BUFFERED with 4413, and close
sockets with 1001 on shutdown.

The application cannot close with 1009 (autobahn allows only 1000 and 3000-4999),
so the limit must live in the protocol layer. daphne has no option for
`failByDrop`, without which an oversized frame shows up as 1006 instead of 1009;
its factory is replaced before daphne builds it (the application module is
imported first, by daphne's CLI and by runserver).
"""

import logging

from hub import app_settings, counters, protocol
from hub.protocol import CLOSE_GOING_AWAY, CLOSE_SLOW_CONSUMER, DROPPABLE_KEY

logger = logging.getLogger(__name__)

# Close codes counted by their number (hub.counters); any other code a client sends counts as "other".
NAMED_CLOSE_CODES = frozenset(
    [1000, 1001, 1005, 1006, 1008, 1009, 1011] + [value for name, value in vars(protocol).items() if name.startswith("CLOSE_")])
# A push marked droppable (typing, presence diffs) is skipped once this share of HUB_MAX_BUFFERED
# is waiting: a socket that is behind gets what matters first, and may yet catch up.
DROPPABLE_SHARE = 0.5


def queued_bytes(transport):
    """Bytes written to `transport` that Twisted still holds, not yet taken by the kernel.

    Twisted's FileDescriptor (the TCP transport under daphne, with either reactor) keeps
    what the socket would not take in `dataBuffer` (from `offset` on) and what was written
    since its last write attempt in `_tempDataBuffer`; nothing bounds either. Under TLS the
    ciphertext queues in the TCP transport the TLS wrapper writes to.
    """
    while transport is not None and not hasattr(transport, "dataBuffer"):
        transport = getattr(transport, "transport", None)
    if transport is None:
        return 0
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


def drop_connection(transport):
    """Abort the TCP connection now and free what it held: a close frame queued behind a
    client that does not read would never reach it, and its buffer would stay."""
    transport.abortConnection()
    while transport is not None and not hasattr(transport, "dataBuffer"):
        transport = getattr(transport, "transport", None)
    if transport is not None:
        transport.dataBuffer, transport.offset = b"", 0
        transport._tempDataBuffer, transport._tempDataLen = [], 0


def install():
    try:
        from daphne import server, ws_protocol
    except ImportError:  # another ASGI server: the consumer's own size check still applies
        return
    if getattr(server.WebSocketFactory, "hub_limits", False):
        return

    class HubWebSocketProtocol(ws_protocol.WebSocketProtocol):
        """daphne's protocol with a cap on unsent output, and no size limit on server frames."""

        hub_opened = False

        def onOpen(self):
            self.hub_opened = True
            super().onOpen()

        def onClose(self, wasClean, code, reason):
            if self.hub_opened:  # a refused handshake is counted where it was refused
                counted = self.localCloseCode if self.closedByMe and self.localCloseCode else code
                counters.count("closes", str(counted) if counted in NAMED_CLOSE_CODES else "other")
            super().onClose(wasClean, code, reason)

        def handle_reply(self, message):
            if self.skips_droppable(message.get(DROPPABLE_KEY)):
                return
            super().handle_reply(message)

        def sendMessage(self, *args, **kwargs):
            # Once closed, autobahn refuses the frame (Disconnected), as for any closed socket.
            self.enforce_cap()
            # autobahn checks maxMessagePayloadSize on sends too; the limit is for clients.
            # Without this a server frame over HUB_MAX_FRAME (a presence join reply with
            # ~650 users) is dropped, and the client waits forever for its reply.
            limit = self.maxMessagePayloadSize
            self.maxMessagePayloadSize = 0  # 0 means "no limit" to autobahn
            try:
                super().sendMessage(*args, **kwargs)
            finally:
                self.maxMessagePayloadSize = limit

        def skips_droppable(self, droppable):
            """Whether a droppable frame is skipped: half of HUB_MAX_BUFFERED or more waits unsent."""
            return bool(droppable) and self.is_behind(DROPPABLE_SHARE)

        def enforce_cap(self):
            """Close 4413 if what earlier frames left unsent is over the cap; True if the socket may still be written.

            Measured before this frame is written: one big reply (a 400 KB history page) is not
            held against a client that reads. Every frame the server writes passes here
            (sendMessage, and hub.fanout's prepared frames).
            """
            if self.is_behind(1.0):
                self.close_slow_consumer()
                return False
            return True

        def is_behind(self, share):
            """Whether more than `share` of HUB_MAX_BUFFERED waits unsent (never, with a cap of 0)."""
            cap = self.factory.max_buffered
            return cap > 0 and self.transport is not None and queued_bytes(self.transport) > cap * share

        def close_slow_consumer(self):
            """The client does not read what it is sent: close 4413 and drop the connection at once.

            The close frame is for a client that starts reading in time; the abort frees the
            buffer now. daphne still hands the application `websocket.disconnect` (autobahn's
            connectionLost -> onClose), so the consumer's cleanup runs as for any close.
            """
            logger.warning("closing slow consumer %s: over %d bytes unsent", self.client_addr,
                           self.factory.max_buffered)
            counters.count("slow_consumer_closes")
            if self.state == self.STATE_OPEN:
                self.sendCloseFrame(code=CLOSE_SLOW_CONSUMER, reasonUtf8=b"slow consumer", isReply=False)
            drop_connection(self.transport)

    class LimitedWebSocketFactory(ws_protocol.WebSocketFactory):
        hub_limits = True
        protocol = HubWebSocketProtocol

        def setProtocolOptions(self, **options):
            # Read once, not per frame: the check runs on every frame the server sends.
            self.max_buffered = app_settings.MAX_BUFFERED_BYTES
            options["maxMessagePayloadSize"] = app_settings.MAX_FRAME_BYTES
            options["maxFramePayloadSize"] = app_settings.MAX_FRAME_BYTES
            options["failByDrop"] = False
            super().setProtocolOptions(**options)

    server.WebSocketFactory = LimitedWebSocketFactory
    _close_sockets_on_shutdown(server, ws_protocol)
    _tell_listeners_when_serving()


def _tell_listeners_when_serving():
    """Run the lifecycle listeners' `started()` once the reactor (and with it asyncio's loop) runs,
    so per-process work such as presence's sweep starts with the process, not with its first socket."""
    import asyncio

    from twisted.internet import reactor

    def start():
        from hub import lifecycle

        asyncio.ensure_future(lifecycle.started())

    reactor.callWhenRunning(start)


def _close_sockets_on_shutdown(server, ws_protocol):
    """daphne cancels every application at shutdown and clients see 1006; drain instead.

    The server stops listening (reconnects go to the other servers), tells the lifecycle
    listeners it is draining (presence keeps these users present for HUB_PRESENCE_GRACE, so
    that those who are back elsewhere by then never show a leave), and closes its sockets with
    1001 spread evenly over HUB_DRAIN_SECONDS, so their clients do not all reconnect at the
    same moment. The consumers get until the end of the drain plus
    app_settings.SHUTDOWN_GRACE_SECS to run their disconnect before daphne cancels what is
    left; then the listeners' `shutdown()` runs (presence publishes its held-back diffs).
    """
    import asyncio

    from twisted.internet import defer, reactor, tcp

    def close_going_away(protocol):
        if protocol.state == protocol.STATE_OPEN:
            # sendClose() refuses codes below 3000 other than 1000; 1001 is the protocol's own
            # "going away", so send the frame one level lower.
            protocol.sendCloseFrame(code=CLOSE_GOING_AWAY, isReply=False)

    def kill_all_applications(self):
        from hub import lifecycle

        lifecycle.start_draining()
        for port in [reader for reader in reactor.getReaders() if isinstance(reader, tcp.Port)]:
            port.stopListening()
        sockets = [protocol for protocol in list(self.connections)
                   if isinstance(protocol, ws_protocol.WebSocketProtocol) and protocol.state == protocol.STATE_OPEN]
        drain_s = app_settings.DRAIN_SECS
        for i, protocol in enumerate(sockets):
            reactor.callLater(drain_s * i / len(sockets), close_going_away, protocol)
        pending = [
            details["application_instance"]
            for details in self.connections.values()
            if details.get("application_instance") is not None and not details["application_instance"].done()
        ]

        async def settle_then_cancel():
            from hub import lifecycle

            if pending:
                await asyncio.wait(pending, timeout=drain_s + app_settings.SHUTDOWN_GRACE_SECS)
            stragglers = [task for task in pending if not task.done()]
            for task in stragglers:
                task.cancel()
            await asyncio.gather(*stragglers, return_exceptions=True)
            # What the closed sockets left behind (presence leaves still coalescing) goes
            # out now: the process exits next, and Redis no longer knows these sockets.
            try:
                await asyncio.wait_for(lifecycle.shutdown(), timeout=app_settings.SHUTDOWN_GRACE_SECS)
            except asyncio.TimeoutError:
                pass

        waited = defer.Deferred.fromFuture(asyncio.ensure_future(settle_then_cancel()))
        waited.addErrback(lambda failure: None)
        return waited

    server.Server.kill_all_applications = kill_all_applications

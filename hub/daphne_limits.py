"""Make daphne enforce HUB_MAX_FRAME with close code 1009, and close sockets with 1001 on shutdown.

The application cannot close with 1009 (autobahn allows only 1000 and 3000-4999),
so the limit must live in the protocol layer. daphne has no option for
`failByDrop`, without which an oversized frame shows up as 1006 instead of 1009;
its factory is replaced before daphne builds it (the application module is
imported first, by daphne's CLI and by runserver).
"""

from hub import app_settings
from hub.protocol import CLOSE_GOING_AWAY


def install():
    try:
        from daphne import server, ws_protocol
    except ImportError:  # another ASGI server: the consumer's own size check still applies
        return
    if getattr(server.WebSocketFactory, "hub_limits", False):
        return

    class ServerFramesUnlimitedProtocol(ws_protocol.WebSocketProtocol):
        """autobahn checks maxMessagePayloadSize on sends too; the limit is for clients.

        Without this a server frame over HUB_MAX_FRAME (a presence join reply with
        ~650 users) is dropped, and the client waits forever for its reply.
        """

        def sendMessage(self, *args, **kwargs):
            limit = self.maxMessagePayloadSize
            self.maxMessagePayloadSize = 0  # 0 means "no limit" to autobahn
            try:
                return super().sendMessage(*args, **kwargs)
            finally:
                self.maxMessagePayloadSize = limit

    class LimitedWebSocketFactory(ws_protocol.WebSocketFactory):
        hub_limits = True
        protocol = ServerFramesUnlimitedProtocol

        def setProtocolOptions(self, **options):
            options["maxMessagePayloadSize"] = app_settings.MAX_FRAME_BYTES
            options["maxFramePayloadSize"] = app_settings.MAX_FRAME_BYTES
            options["failByDrop"] = False
            super().setProtocolOptions(**options)

    server.WebSocketFactory = LimitedWebSocketFactory
    _close_sockets_on_shutdown(server, ws_protocol)


def _close_sockets_on_shutdown(server, ws_protocol):
    """daphne cancels every application at shutdown and clients see 1006; say 1001 first.

    Each socket is closed with 1001 and its consumer gets up to app_settings.SHUTDOWN_GRACE_SECS to
    run its disconnect (presence leaves) before daphne cancels what is left; then the
    lifecycle listeners' `shutdown()` runs (presence publishes its held-back diffs).
    """
    import asyncio

    from twisted.internet import defer

    def kill_all_applications(self):
        for protocol in list(self.connections):
            if isinstance(protocol, ws_protocol.WebSocketProtocol) and protocol.state == protocol.STATE_OPEN:
                # sendClose() refuses codes below 3000 other than 1000; 1001 is the
                # protocol's own "going away", so send the frame one level lower.
                protocol.sendCloseFrame(code=CLOSE_GOING_AWAY, isReply=False)
        pending = [
            details["application_instance"]
            for details in self.connections.values()
            if details.get("application_instance") is not None and not details["application_instance"].done()
        ]

        async def settle_then_cancel():
            from hub import lifecycle

            if pending:
                await asyncio.wait(pending, timeout=app_settings.SHUTDOWN_GRACE_SECS)
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

"""Make daphne enforce HUB_MAX_FRAME with close code 1009.

The application cannot close with 1009 (autobahn allows only 1000 and 3000-4999),
so the limit must live in the protocol layer. daphne has no option for
`failByDrop`, without which an oversized frame shows up as 1006 instead of 1009;
its factory is replaced before daphne builds it (the application module is
imported first, by daphne's CLI and by runserver).
"""

from django.conf import settings


def install():
    try:
        from daphne import server, ws_protocol
    except ImportError:  # another ASGI server: the consumer's own size check still applies
        return
    if getattr(server.WebSocketFactory, "hub_limits", False):
        return

    class LimitedWebSocketFactory(ws_protocol.WebSocketFactory):
        hub_limits = True

        def setProtocolOptions(self, **options):
            options["maxMessagePayloadSize"] = settings.HUB_MAX_FRAME
            options["maxFramePayloadSize"] = settings.HUB_MAX_FRAME
            options["failByDrop"] = False
            super().setProtocolOptions(**options)

    server.WebSocketFactory = LimitedWebSocketFactory

"""Connection lifecycle hooks: how an app (presence) learns of every socket without the consumer naming it.

A listener is an object with any of these async methods:
`connected(conn)`, `heartbeat(conn, status)`, `activity(conn)`, `disconnected(conn)`,
and `shutdown()`, awaited once when the server stops, after its sockets have closed
(presence sends the leaves it was still holding back).
"""

import logging

logger = logging.getLogger(__name__)
_listeners = []


def add_listener(listener):
    """Register a listener once (apps do this in AppConfig.ready())."""
    if listener not in _listeners:
        _listeners.append(listener)


async def notify(hook, *args):
    """Call `hook` on every listener; one failing listener must not break the socket or the others."""
    for listener in _listeners:
        method = getattr(listener, hook, None)
        if method is None:
            continue
        try:
            await method(*args)
        except Exception:
            logger.exception("lifecycle listener %r failed in %s", listener, hook)


async def shutdown():
    """Tell every listener the server is stopping (daphne's shutdown calls this)."""
    await notify("shutdown")

"""Connection lifecycle hooks: how an app (presence) follows every socket without the consumer naming it.

A listener is an object with any of these async methods:
- `started()`: awaited once when the server process is up and serving, before any socket
  (under daphne; other servers never call it, so a listener also starts on its first socket);
- `connected(conn)`: the socket is accepted and registered;
- `activity(conn)`: the socket's registration is being refreshed (on a heartbeat, or while
  other frames keep it open; hub.guards.Watchdog says when): extend whatever expires with
  it; about once per heartbeat interval;
- `heartbeat(conn, payload)`: the client's heartbeat payload, as it came; raise a HubError
  to refuse it (the client gets it as the heartbeat's reply);
- `user_changed(conn)`: the socket's user was re-read because something of theirs changed
  (hub.push.users_changed: rights, groups, password, presence's "appear offline");
- `disconnected(conn)`: the socket closed; `is_draining()` says whether the server closed it
  because it is stopping (its client is expected back on another server soon);
- `shutdown()`: awaited once when the server stops, after its sockets have closed
  (presence sends the leaves it was still holding back).
"""

import logging

from hub.errors import HubError

logger = logging.getLogger(__name__)
_listeners = []
_draining = False


def start_draining():
    """This server process is stopping: the sockets it closes from now on will reconnect elsewhere."""
    global _draining
    _draining = True


def is_draining():
    return _draining


def add_listener(listener):
    """Register a listener once (apps do this in AppConfig.ready())."""
    if listener not in _listeners:
        _listeners.append(listener)


async def notify(hook, *args):
    """Call `hook` on every listener; one failing listener must not break the socket or the others."""
    await _call_each(hook, args, refusals=False)


async def heartbeat(conn, payload):
    """Hand a heartbeat's payload to every listener; re-raise the first HubError one of them raised."""
    await _call_each("heartbeat", (conn, payload), refusals=True)


async def started():
    """Tell every listener the server process is serving (hub.daphne_limits calls this under daphne)."""
    await notify("started")


async def shutdown():
    """Tell every listener the server is stopping (daphne's shutdown calls this)."""
    await notify("shutdown")


async def _call_each(hook, args, *, refusals):
    refused = None
    for listener in _listeners:
        method = getattr(listener, hook, None)
        if method is None:
            continue
        try:
            await method(*args)
        except HubError as error:
            if not refusals:
                logger.exception("lifecycle listener %r failed in %s", listener, hook)
            refused = refused or error  # bad input from the client: answered, not logged
        except Exception:
            logger.exception("lifecycle listener %r failed in %s", listener, hook)
    if refused is not None and refusals:
        raise refused

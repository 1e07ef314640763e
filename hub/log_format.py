"""Log lines: one per event, JSON when LOG_FORMAT=json, naming the socket (connection and user id) they concern.

- Every record passes `SocketFields`, which adds `conn` and `user` from a context variable.
  `SocketLogContext`, a lifecycle listener, sets it when a socket is connected: the socket's task
  and every task it starts later (its watchdog, its handlers) carry it, so whatever is logged
  while serving that socket names it, whichever module logs. Lines about no socket have none.
- `JsonFormatter` writes `{"time", "level", "logger", "message", "conn", "user", "exc"}` on one
  line (a traceback's newlines stay inside its JSON string).
- daphne writes its access log (WSCONNECT, GET /...) straight to stdout, not through logging;
  with LOG_FORMAT=json, `install()` sends those entries through the `daphne.access` logger, so
  every line of the process is JSON.
What is never logged: message bodies, notification texts, session keys, cookies or tokens: Hub's
own lines carry ids and codes (a test sends a body over a socket and finds it in no line), and
daphne's access lines carry the path without its query string.
"""

import contextvars
import json
import logging
from datetime import datetime, timezone

logger = logging.getLogger("hub.sockets")
socket_context = contextvars.ContextVar("hub_socket", default=None)  # (conn_id, user_id) of the socket served


class SocketFields(logging.Filter):
    """Adds `conn`, `user` and `socket` (" [conn=... user=...]" or "", for the plain format) to every record."""

    def filter(self, record):
        current = socket_context.get()
        record.conn, record.user = current if current else (None, None)
        record.socket = f" [conn={record.conn} user={record.user}]" if current else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "conn", None) is not None:
            line["conn"], line["user"] = record.conn, record.user
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class SocketLogContext:
    """Lifecycle listener: from its `connected` on, the socket's task logs with its ids; a line when it opens
    and when it closes, so an operator can follow one connection from end to end."""

    async def connected(self, conn):
        socket_context.set((conn.conn_id, conn.user.pk))
        logger.info("socket connected")

    async def disconnected(self, conn):
        logger.info("socket disconnected")


def install(log_format):
    """With LOG_FORMAT=json, daphne's access log goes through logging (so it is JSON too); nothing otherwise."""
    if log_format != "json":
        return
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:
        return
    access = logging.getLogger("daphne.access")

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        access.info("%s \"%s\" %s %s", host, request, status if status is not None else "-",
                    length if length is not None else "-")

    AccessLogGenerator.write_entry = write_entry

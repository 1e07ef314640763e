"""What this server process counts: hub.metrics exports it to Prometheus, hub.live_stats shows it to staff.

Counting happens on the hot path (every frame in, every push out), so a count is one Counter
increment under a lock (database threads and commands count too: pushes published, Redis
errors); the exporters read a snapshot now and then. Keys are tuples, the kind first, then its
labels, each from a small fixed set (topic patterns, error and close codes): a client can never
make a new key by sending a new name.

Gauges that are not counted here but read when asked (users online, the outbox's backlog) come
from the apps that own them: `add_gauge(name, help, read)`, where `read` is an async function.
"""

import collections
import logging
import threading

logger = logging.getLogger(__name__)

_counts = collections.Counter()
_lock = threading.Lock()
# Counted by the event loop's thread alone, with no lock and no call: hub.fanout adds 1 to its key once per socket
# per push (`loop_counts[key] += 1`, the key made once per message). Never replaced, so importers may hold it.
loop_counts = collections.Counter()
_gauges = {}  # name -> (help, async read())
_open = set()  # connection ids of the sockets this process serves now (changed on the event loop only)


def count(kind, *labels, n=1):
    """Add `n` to the count of `kind` with these labels: count("frames_out", "room", "message")."""
    with _lock:
        _counts[(kind, *labels)] += n


def topic_label(topic):
    """The label of a topic in counts: its registered pattern's name ("room" for room:general), else "unknown"."""
    from hub.protocol import HUB_TOPIC
    from hub.topics import lookup

    if topic == HUB_TOPIC:
        return HUB_TOPIC
    if not isinstance(topic, str) or lookup(topic)[0] is None:
        return "unknown"
    return topic.split(":", 1)[0]


def snapshot():
    """{key tuple: count} of everything counted since the process started."""
    on_loop = dict(loop_counts)  # one C-level copy under the GIL: safe while the loop counts on
    with _lock:
        found = dict(_counts)
    for key, value in on_loop.items():
        found[key] = found.get(key, 0) + value
    return found


def open_sockets():
    return len(_open)


def add_gauge(name, help_text, read):
    """Let an app report a value read when asked (`await read()` -> a number), e.g. users online."""
    _gauges[name] = (help_text, read)


async def read_gauges():
    """[(name, help, value)] of the gauges apps added, by name, read now; value None for one that failed (logged)."""
    found = []
    for name, (help_text, read) in sorted(_gauges.items()):
        try:
            value = await read()
        except Exception as exc:
            logger.warning("could not read gauge %s: %s", name, exc)
            value = None
        found.append((name, help_text, value))
    return found


class SocketCounter:
    """Lifecycle listener: keeps `open_sockets()` right (accepted and registered sockets, not handshakes).

    A set of ids, not a number: `disconnected` also comes for a socket closed before `connected`
    (one too many for its user)."""

    async def connected(self, conn):
        _open.add(conn.conn_id)

    async def disconnected(self, conn):
        _open.discard(conn.conn_id)

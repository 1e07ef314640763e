"""Prometheus metrics at /metrics (HUB_METRICS=1), for every server process of the machine at once.

Why prometheus_client's multiprocess mode: N daphne processes serve one site, and a scrape
reaches one of them; each process writes its numbers to files of its own in
PROMETHEUS_MULTIPROC_DIR (hub/settings.py sets it when HUB_METRICS is on), and the process
that answers the scrape sums them all.

Why counts go through hub.counters first: a multiprocess counter writes to its file on every
increment (about a microsecond, under a lock), too much for every push to every socket. Hub
counts in memory and `flush()` adds what changed since the last flush to the Prometheus
counters: once a second in a server process (a lifecycle listener's loop), before every
scrape, and when a command ends. A scrape therefore sees the other processes' counts as of at
most a second ago.

Gauges: `hub_open_sockets` is summed over live processes; the files of a process that died
without saying so (SIGKILL, OOM) are marked dead at the next scrape, so its sockets stop
counting. The apps' gauges (users online, the outbox's backlog) are read when scraped.
"""

import asyncio
import atexit
import hmac
import ipaddress
import logging
import os
import re
import threading

from asgiref.sync import async_to_sync
from django.conf import settings

from hub import counters
from hub.embedded_redis import pid_alive

logger = logging.getLogger(__name__)
FLUSH_SECS = 1.0
# counters kind -> (metric name without _total, help, label names)
COUNTERS = {
    "frames_in": ("hub_frames_in", "Frames received from clients.", ()),
    "frames_out": ("hub_frames_out", "Frames sent to clients: pushes, replies and hello, by topic (its pattern's "
                                     "name) and event.", ("topic", "event")),
    "errors": ("hub_errors", "Error replies sent, by error code.", ("code",)),
    "closes": ("hub_closes", "Sockets closed, by close code (the server's if it closed, else the client's; "
                             "codes the protocol does not name count as other).", ("code",)),
    "handshakes_refused": ("hub_handshakes_refused", "WebSocket handshakes refused, by reason.", ("reason",)),
    "pushes_published": ("hub_pushes_published", "Layer messages published to Redis (one per group).", ()),
    "redis_errors": ("hub_redis_errors", "Redis calls that failed, by what they were for.", ("operation",)),
    "slow_consumer_closes": ("hub_slow_consumer_closes", "Sockets closed 4413: over HUB_MAX_BUFFERED unsent.", ()),
}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FILE_PID = re.compile(r"^gauge_live\w*?_(\d+)\.db$")
_exporter = None
_exporter_lock = threading.Lock()


class _Exporter:
    """This process's Prometheus metrics (made on first use: a process that counts nothing writes no file)."""

    def __init__(self):
        from prometheus_client import Counter, Gauge, Histogram

        self.counters = {kind: Counter(name, help_text, labels) for kind, (name, help_text, labels) in COUNTERS.items()}
        self.open_sockets = Gauge("hub_open_sockets", "Sockets open now (accepted and registered).",
                                  multiprocess_mode="livesum")
        self.push_latency = Histogram("hub_push_latency_seconds", "From a transaction's commit to its pushes "
                                      "published.", buckets=LATENCY_BUCKETS)
        self.flushed = {}
        self.lock = threading.Lock()

    def flush(self, counts):
        """Add `counts` (a counters.snapshot()) minus what was flushed before to the Prometheus counters."""
        with self.lock:
            for key, value in counts.items():
                delta = value - self.flushed.get(key, 0)
                metric = self.counters.get(key[0])
                if delta and metric is not None:
                    (metric.labels(*key[1:]) if len(key) > 1 else metric).inc(delta)
                    self.flushed[key] = value
            self.open_sockets.set(counters.open_sockets())


def enabled():
    return settings.HUB_METRICS


def _get_exporter():
    global _exporter
    if _exporter is None and enabled():
        with _exporter_lock:
            if _exporter is None:
                _exporter = _Exporter()
    return _exporter


def flush():
    """Write what was counted since the last flush to this process's metric files (nothing with metrics off)."""
    if not enabled():
        return
    counts = counters.snapshot()
    if _exporter is not None or counts or counters.open_sockets():
        _get_exporter().flush(counts)


def observe_push_latency(seconds):
    if enabled():
        _get_exporter().push_latency.observe(seconds)


def install():
    """In every process (AppConfig.ready): flush when it exits, so a command's counts are not lost."""
    if enabled():
        atexit.register(flush)


# --- the scrape


def may_scrape(request):
    """Whether this request may read /metrics: a HUB_METRICS_TOKEN bearer token, or a HUB_METRICS_ALLOW address."""
    token = settings.HUB_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in allowed_networks())


def allowed_networks():
    return [ipaddress.ip_network(value, strict=False) for value in settings.HUB_METRICS_ALLOW]


def render():
    """(body, content type) of the scrape: every process of this machine, and the apps' gauges."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    _get_exporter().flush(counters.snapshot())  # counts as of now, and the metrics on the page before any socket
    _reap_dead_processes()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_AppGauges())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _reap_dead_processes():
    """Mark dead the processes whose live-gauge files remain (killed without a shutdown): their sockets are gone."""
    from prometheus_client import multiprocess

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for pid in {int(m.group(1)) for m in map(_FILE_PID.match, names) if m}:
        if not pid_alive(pid):
            multiprocess.mark_process_dead(pid, directory)


class _AppGauges:
    """The gauges apps added with hub.counters.add_gauge, read now; one that cannot be read is left out."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        for name, help_text, value in async_to_sync(counters.read_gauges)():
            if value is not None:  # one that could not be read is left out of this scrape
                yield GaugeMetricFamily(f"hub_{name}", help_text, value=value)


class MetricsListener:
    """Lifecycle listener: flush this process's counts every FLUSH_SECS while it serves, and say it is gone at shutdown."""

    tasks = {}  # event loop -> its flushing task (tests run several loops in one process)

    async def started(self):
        loop = asyncio.get_running_loop()
        task = self.tasks.get(loop)
        if enabled() and (task is None or task.done()):
            self.tasks.clear()
            self.tasks[loop] = asyncio.ensure_future(self._flush_forever())

    async def connected(self, conn):
        await self.started()  # servers other than daphne never call started()

    async def shutdown(self):
        for task in self.tasks.values():
            task.cancel()
        if _exporter is not None:
            from prometheus_client import multiprocess

            _exporter.flush(counters.snapshot())
            multiprocess.mark_process_dead(os.getpid())

    async def _flush_forever(self):
        task = asyncio.current_task()
        while not task.cancelling():
            await asyncio.sleep(FLUSH_SECS)
            try:
                flush()
            except Exception:
                logger.exception("metrics: flush failed")

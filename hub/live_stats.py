"""The staff live view's numbers (/admin/hub/, topic `hub:admin`): every server process of the site, from Redis.

Each server process samples its own counts (hub.counters) every SAMPLE_SECS, keeps the last
minute of samples, and writes a summary to one Redis hash (field = the process): its sockets,
frames in and out and pushes published per second over the last minute, and the errors and
closes of that minute by code. Any process can then answer for all of them, on every machine
(unlike /metrics, which sums the processes of one machine). A process that stops removes its
field; one that died stops being shown once its summary is STALE_SECS old.
"""

import asyncio
import collections
import json
import logging
import os
import socket
import time
import uuid

from hub import counters
from hub.protocol import iso
from hub.redis import get_async_redis, key

logger = logging.getLogger(__name__)
SAMPLE_SECS = 2.0
WINDOW_SECS = 60.0
STALE_SECS = 10.0  # a summary this old is from a process that is gone
RATES = ("frames_in", "frames_out", "pushes_published")  # counts shown per second
BY_CODE = ("errors", "closes")  # counts shown by code over the last minute
PROCESS_ID = uuid.uuid4().hex[:12]
_started_at = time.time()
_samples = collections.deque(maxlen=int(WINDOW_SECS / SAMPLE_SECS) + 1)  # (time, {kind or (kind, code): count})
_tasks = {}  # event loop -> its sampling task (tests run several loops in one process)


def _hash():
    return key("live")


def _grouped(snapshot):
    """Counts by kind for RATES, by (kind, code) for BY_CODE; labels the view does not show are summed away."""
    grouped = collections.Counter()
    for (kind, *labels), value in snapshot.items():
        if kind in RATES:
            grouped[kind] += value
        elif kind in BY_CODE:
            grouped[(kind, labels[0])] += value
    return grouped


def sample(now=None):
    """Take this process's sample now; return its summary over the samples of the last minute."""
    _samples.append((time.monotonic() if now is None else now, _grouped(counters.snapshot())))
    (first_t, first), (last_t, last) = _samples[0], _samples[-1]
    elapsed = last_t - first_t
    per_second = {kind: round((last[kind] - first[kind]) / elapsed, 2) if elapsed > 0 else 0.0 for kind in RATES}
    last_minute = {kind: {} for kind in BY_CODE}
    for name in last:
        if isinstance(name, tuple) and last[name] > first[name]:
            last_minute[name[0]][name[1]] = last[name] - first[name]
    return {"id": PROCESS_ID, "host": socket.gethostname(), "pid": os.getpid(), "started_at": iso_from(_started_at),
            "at": time.time(), "sockets": counters.open_sockets(), "per_second": per_second,
            "last_minute": last_minute}


def iso_from(timestamp):
    from datetime import datetime, timezone

    return iso(datetime.fromtimestamp(timestamp, timezone.utc))


async def publish(summary):
    redis = get_async_redis()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(_hash(), PROCESS_ID, json.dumps(summary))
        pipe.expire(_hash(), int(WINDOW_SECS))
        await pipe.execute()


async def processes():
    """The summaries of the server processes alive now, by host and pid; stale ones are removed."""
    redis = get_async_redis()
    found, stale, now = [], [], time.time()
    for field, value in (await redis.hgetall(_hash())).items():
        try:
            summary = json.loads(value)
            fresh = now - float(summary["at"]) <= STALE_SECS
        except (ValueError, KeyError, TypeError):
            fresh = False
        if fresh:
            found.append(summary)
        else:
            stale.append(field)
    if stale:
        await redis.hdel(_hash(), *stale)
    return sorted(found, key=lambda s: (s["host"], s["pid"]))


async def view():
    """What staff see: the apps' gauges, every process, and the totals of the site."""
    gauges = [{"name": name, "help": help_text, "value": value}
              for name, help_text, value in await counters.read_gauges()]
    found = await processes()
    totals = {"sockets": sum(p["sockets"] for p in found),
              "per_second": {kind: round(sum(p["per_second"][kind] for p in found), 2) for kind in RATES},
              "last_minute": {kind: dict(sum((collections.Counter(p["last_minute"][kind]) for p in found),
                                             collections.Counter())) for kind in BY_CODE}}
    for process in found:
        process["at"] = iso_from(process["at"])
    return {"at": iso_from(time.time()), "gauges": gauges, "processes": found, "totals": totals}


async def _sample_forever():
    task = asyncio.current_task()
    while not task.cancelling():  # redis-py may swallow a cancellation (hub.outbox)
        try:
            await publish(sample())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            counters.count("redis_errors", "live_stats")
            logger.warning("live stats: could not publish this process's summary: %s", exc)
        await asyncio.sleep(SAMPLE_SECS)


class LiveStatsListener:
    """Lifecycle listener: sample and publish while the process serves; remove its summary when it stops."""

    async def started(self):
        loop = asyncio.get_running_loop()
        task = _tasks.get(loop)
        if task is None or task.done():
            _tasks.clear()
            _tasks[loop] = asyncio.ensure_future(_sample_forever())

    async def connected(self, conn):
        await self.started()  # servers other than daphne never call started()

    async def shutdown(self):
        for task in _tasks.values():
            task.cancel()
        try:
            await get_async_redis().hdel(_hash(), PROCESS_ID)
        except Exception as exc:
            logger.warning("live stats: could not remove this process's summary: %s", exc)

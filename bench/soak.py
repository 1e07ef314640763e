"""Soak: sockets come and go for minutes; does the server or Redis keep anything of the ones that went?

--sockets users each hold one socket joined to a room, `presence`, `notifications` and `chat`
(the lobby); one of them sends --rate messages a second into the room; every second --churn
sockets close and as many open (each new one joins the same four topics). Every --every
seconds it reports daphne's resident memory, Redis's key count (and the keys under the hub
prefix by their second part: `p`, `sockets`, `rate`, ...), and the connection cycles so far.
Stops by itself after --minutes (at most 60).
"""

import asyncio
import collections
import os
import time
from pathlib import Path

from bench.common import Stack, drain, make_sessions, open_socket, request
from bench.tracing import grew, snapshot, trace_env

TOPICS = ("room:soak", "presence", "notifications", "chat")


def add_arguments(parser):
    parser.add_argument("--sockets", type=int, default=150, help="sockets open at any time, at most 1000")
    parser.add_argument("--churn", type=int, default=10, help="sockets closed and opened every second")
    parser.add_argument("--rate", type=float, default=5.0, help="messages a second into the room")
    parser.add_argument("--minutes", type=float, default=5.0, help="how long (at most 60)")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between reports")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace daphne's allocations and show what grew between the second report and the "
                             "last (slows the server down: for finding a leak, not for figures)")
    parser.add_argument("--sqlite-cache-kib", type=int, default=None,
                        help="SQLite's page cache per database connection in daphne, in KiB (SQLite's default: "
                             "2,000); the cache fills as the database grows, outside tracemalloc's view")
    parser.add_argument("--database-url", default=None,
                        help="the database of the stack instead of a fresh SQLite file (e.g. a throwaway "
                             "PostgreSQL database: postgres://127.0.0.1/hub_soak); migrated at the start")
    parser.add_argument("--allocator", choices=sorted(ALLOCATORS), default="pymalloc",
                        help="daphne's memory allocator: pymalloc over glibc with Hub's fixed mmap threshold (pymalloc, "
                             "the default), the same with glibc's own rising threshold (glibc-dynamic), glibc malloc "
                             "trimmed every 2 s (malloc-trim), or jemalloc (Debian's libjemalloc2 must be installed)")


HOOKS = Path(__file__).resolve().parent
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# What each --allocator adds to daphne's environment: it tells apart memory the process still
# uses from memory its allocator keeps after it was freed (fragmentation).
ALLOCATORS = {
    "pymalloc": {},
    "malloc-trim": {"PYTHONMALLOC": "malloc", "PYTHONPATH": str(HOOKS / "malloc_trim_hook")},
    "jemalloc": {"PYTHONMALLOC": "malloc", "LD_PRELOAD": JEMALLOC},
    # Hub's own malloc tuning off (hub/malloc_tuning.py): glibc's mmap threshold rises with every
    # large block freed, as it did before that tuning.
    "glibc-dynamic": {"HUB_MALLOC_MMAP_THRESHOLD": "0"},
}


def _allocator_env(name):
    env = dict(ALLOCATORS[name])
    if name == "jemalloc" and not Path(JEMALLOC).exists():
        raise SystemExit(f"--allocator jemalloc needs {JEMALLOC} (apt-get install libjemalloc2)")
    if "PYTHONPATH" in env:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [env["PYTHONPATH"], os.environ.get("PYTHONPATH")]))
    return env


SETTLE_BEFORE_SNAPSHOT_SECS = 5  # no socket half-closed in a snapshot: it would be noise


async def _join_all(ws):
    for topic in TOPICS:
        reply = await request(ws, topic, "join")
        if not reply["ok"]:
            raise RuntimeError(f"join {topic} failed: {reply}")


async def _redis_keys(url):
    """(keys, keys under the hub prefix by kind, sockets' own channels subscribed): what Redis holds now."""
    from redis import asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        by_kind = collections.Counter()
        async for name in client.scan_iter(match="hub:*", count=1000):
            by_kind[name.decode().split(":")[1]] += 1
        # One per open socket (and the sender's): more means closed sockets left subscribed (issue 11).
        channels = len(await client.pubsub_channels("hub.layerspecific.*"))
        return await client.dbsize(), by_kind, channels
    finally:
        await client.aclose()


async def main(args):
    n = max(2, min(args.sockets, 1000))
    minutes = max(0.1, min(args.minutes, 60.0))
    if args.tracemalloc and args.allocator != "pymalloc":
        raise SystemExit("--tracemalloc traces Python's own allocator: leave --allocator at pymalloc")
    env = {"HUB_CHAT_RATE": "100000/10s", "HUB_PRESENCE_TTL": "600", **_allocator_env(args.allocator),
           **(trace_env() if args.tracemalloc else {})}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.sqlite_cache_kib is not None:
        if args.tracemalloc or args.allocator == "malloc-trim":  # one sitecustomize is loaded, not two
            raise SystemExit("--sqlite-cache-kib goes with neither --tracemalloc nor --allocator malloc-trim")
        hook = str(HOOKS / "sqlite_cache_hook")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [hook, env.get("PYTHONPATH"), os.environ.get("PYTHONPATH")]))
        env["HUB_SQLITE_CACHE_KIB"] = str(args.sqlite_cache_kib)
    snapshots = []
    with Stack(redis_url=args.redis_url, env=env) as stack:
        from chat.models import Room

        Room.objects.get_or_create(slug="soak", defaults={"name": "Soak", "kind": "public"})
        sessions = make_sessions(n + 1, prefix="soak")
        cookies = [cookie for _, _, cookie in sessions]
        sender, _ = await open_socket(stack, cookies[0])
        await request(sender, "room:soak", "join")
        slots = []
        for cookie in cookies[1:]:
            ws, _ = await open_socket(stack, cookie)
            await _join_all(ws)
            slots.append([cookie, ws, asyncio.ensure_future(drain(ws))])
        started, cycles, sent = time.monotonic(), 0, 0
        deadline = started + minutes * 60
        next_report = started
        print("| minute | daphne RSS MiB | Redis keys | hub keys by kind | sockets' channels subscribed | connection cycles |")
        print("|---|---|---|---|---|---|")
        while time.monotonic() < deadline:
            second = time.monotonic()
            if second >= next_report:
                dbsize, kinds, channels = await _redis_keys(stack.redis_url)
                print(f"| {(second - started) / 60:.1f} | {stack.rss_kb() / 1024:.1f} | {dbsize} | "
                      f"{dict(sorted(kinds.items()))} | {channels} | {cycles} |", flush=True)
                next_report += args.every
                if args.tracemalloc and next_report > started + args.every * 1.5:  # from the second report on
                    snapshots.append(await snapshot(stack, len(snapshots) + 1, SETTLE_BEFORE_SNAPSHOT_SECS))
            for _ in range(min(args.churn, n)):
                slot = slots[cycles % n]
                await slot[1].close()
                slot[2].cancel()
                ws, _ = await open_socket(stack, slot[0])
                await _join_all(ws)
                slot[1], slot[2] = ws, asyncio.ensure_future(drain(ws))
                cycles += 1
            for _ in range(int(args.rate)):
                await sender.send('{"topic": "room:soak", "event": "send", "payload": {"body": "soak"}, "ref": null}')
                sent += 1
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - second)))
        dbsize, kinds, channels = await _redis_keys(stack.redis_url)
        print(f"| {(time.monotonic() - started) / 60:.1f} | {stack.rss_kb() / 1024:.1f} | {dbsize} | "
              f"{dict(sorted(kinds.items()))} | {channels} | {cycles} |")
        print(f"{n} sockets, {args.churn} closed and opened a second, {sent} messages sent, "
              f"allocator {args.allocator}, database {(args.database_url or 'SQLite').split('://')[0]}, "
              f"SQLite cache {args.sqlite_cache_kib or 'default'} KiB")
        if args.tracemalloc:
            snapshots.append(await snapshot(stack, len(snapshots) + 1, SETTLE_BEFORE_SNAPSHOT_SECS))
            grew(snapshots[0], snapshots[-1])
        for _, ws, task in slots:
            task.cancel()
            await ws.close()
        await sender.close()

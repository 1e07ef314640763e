"""Idle: N authenticated sockets that only heartbeat; what each costs the server in memory.

Opens --sockets sockets (each its own user, logged in, joined to nothing: the cost of being
connected and present), measures daphne's resident memory before the first and after the
last, then keeps them heartbeating every --heartbeat seconds for --seconds and measures
again (memory that appears only once sockets live a while: presence refreshes, keep-alive
state). Reports KiB of server memory per socket.
"""

import asyncio
import json
import random
import time

from bench.ceiling import CeilingStack
from bench.common import Stack, drain, make_sessions, open_sockets
from bench.tracing import grew, snapshot, trace_env

MAX_SOCKETS = 20000


def add_arguments(parser):
    parser.add_argument("-n", "--sockets", type=int, default=1000, help=f"idle sockets, at most {MAX_SOCKETS}")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long they stay, heartbeating (at most 600)")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between a socket's heartbeats")
    parser.add_argument("--design", choices=("hub", "ceiling"), default="hub",
                        help="ceiling: the same number of sockets open on bench/ceiling.py's bare websockets server "
                             "(no auth, no session, no Redis; nothing to heartbeat), for the ratio")
    parser.add_argument("--lockstep", action="store_true",
                        help="every socket heartbeats at the same moment (by default each starts at a random point "
                             "of its first interval, as real clients do, which connected at different times)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace daphne's allocations and show what the open sockets hold, by where it was "
                             "allocated (slows the server down: for finding where memory goes, not for figures)")


async def _heartbeat(ws, every, until, lockstep):
    try:
        if not lockstep:
            await asyncio.sleep(random.uniform(0, every))
        while time.monotonic() < until:
            await ws.send(json.dumps({"topic": "hub", "event": "heartbeat", "payload": {}, "ref": "h"}))
            await asyncio.sleep(every)
    except Exception:
        pass



async def main(args):
    n = max(1, min(args.sockets, MAX_SOCKETS))
    seconds = max(1.0, min(args.seconds, 600.0))
    env = {"HUB_PRESENCE_TTL": "600", "HUB_HEARTBEAT": "25", **(trace_env() if args.tracemalloc else {})}
    snapshots = []
    ceiling = args.design == "ceiling"
    with CeilingStack() if ceiling else Stack(redis_url=args.redis_url, env=env) as stack:
        cookies = [""] * n if ceiling else [cookie for _, _, cookie in make_sessions(n, prefix="idle")]
        await asyncio.sleep(1)
        if args.tracemalloc and not ceiling:
            snapshots.append(await snapshot(stack, 1))
        before = stack.rss_kb()
        sockets = [ws for ws, _ in await open_sockets(stack, cookies, concurrency=50)]
        drains = [asyncio.ensure_future(drain(ws)) for ws in sockets]
        await asyncio.sleep(2)
        opened = stack.rss_kb()
        if snapshots:
            snapshots.append(await snapshot(stack, 2))
        until = time.monotonic() + seconds
        if ceiling:  # the bare server knows no heartbeat; its sockets just stay open as long
            await asyncio.sleep(seconds)
        else:
            await asyncio.gather(*(_heartbeat(ws, args.heartbeat, until, args.lockstep) for ws in sockets))
        after = stack.rss_kb()
        if snapshots:
            snapshots.append(await snapshot(stack, 3))
        for task in drains:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    what = ("bare sockets on the ceiling server" if ceiling else
            f"authenticated sockets, heartbeating every {args.heartbeat} s "
            f"({'all at once' if args.lockstep else 'spread over the interval'})")
    print(f"idle: {n} {what}, for {seconds:.0f} s")
    print(f"  server RSS: {before / 1024:.1f} MiB before, {opened / 1024:.1f} MiB once open, "
          f"{after / 1024:.1f} MiB after {seconds:.0f} s")
    print(f"  per socket: {(opened - before) / n:.1f} KiB once open, {(after - before) / n:.1f} KiB after {seconds:.0f} s")
    if snapshots:
        grew(snapshots[0], snapshots[1], top=25, per=n)  # what the open sockets hold
        grew(snapshots[1], snapshots[2], top=15, per=n)  # what living and heartbeating added

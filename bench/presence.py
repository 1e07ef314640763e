"""Presence: N sockets connect and join `presence`; time until every socket has seen every arrival.

Reports the time from the first connect until every socket's view holds all N users,
the presence frames each socket received (coalescing keeps this small), and the server
process's resident memory per socket.
"""

import asyncio
import json
import time

from bench.common import Stack, make_sessions, open_socket, request


def add_arguments(parser):
    parser.add_argument("-n", "--sockets", type=int, default=500, help="sockets (and users), at most 5000")
    parser.add_argument("--concurrency", type=int, default=25, help="handshakes in flight at once")


async def main(args):
    n = min(args.sockets, 5000)
    with Stack(redis_url=args.redis_url) as stack:
        sessions = make_sessions(n, prefix="pres")
        rss_before = stack.rss_kb()
        views = [set() for _ in range(n)]
        frames = [0] * n
        done = asyncio.Event()
        complete = [0]
        sockets = [None] * n
        gate = asyncio.Semaphore(args.concurrency)

        def see(i, users):
            before = len(views[i]) == n
            views[i].update(users)
            if not before and len(views[i]) == n:
                complete[0] += 1
                if complete[0] == n:
                    done.set()

        async def reader(i, ws):
            async for text in ws:
                frame = json.loads(text)
                if frame["topic"] == "presence" and frame["event"] == "diff":
                    frames[i] += 1
                    see(i, (u["id"] for u in frame["payload"]["joins"] + frame["payload"]["updates"]))

        async def one(i, cookie):
            async with gate:
                ws, _ = await open_socket(stack, cookie)
            sockets[i] = ws
            reply = await request(ws, "presence", "join", timeout=args.timeout)
            if not reply["ok"]:
                raise RuntimeError(f"join failed: {reply}")
            see(i, (u["id"] for u in reply["data"]["users"]))
            return asyncio.create_task(reader(i, ws))

        started = time.perf_counter()
        readers = await asyncio.gather(*(one(i, cookie) for i, (_, _, cookie) in enumerate(sessions)))
        connected = time.perf_counter() - started
        try:
            await asyncio.wait_for(done.wait(), args.timeout)
            converged = time.perf_counter() - started
        except TimeoutError:
            converged = float("nan")
        rss_after = stack.rss_kb()
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets if ws), return_exceptions=True)
    per_socket_kib = (rss_after - rss_before) / n
    print(f"presence: {n} sockets")
    print(f"  all connected and joined after  {connected:.2f} s")
    print(f"  every socket saw every arrival  {converged:.2f} s after the first connect")
    print(f"  diff frames per socket          mean {sum(frames) / n:.1f}, max {max(frames)}")
    print(f"  server RSS                      {rss_before / 1024:.0f} MiB -> {rss_after / 1024:.0f} MiB "
          f"({per_socket_kib:.1f} KiB per socket)")

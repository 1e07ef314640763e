"""Stream: N sockets on one live stream of K keys, U updates a second in all; frames per socket, latency, memory.

Every socket joins `stream:bench`; a thread of the bench publishes --rate updates a second for --seconds,
spread over --keys keys, each value carrying its publish time. Reported: frames each socket got per second
(HUB_STREAM_MAX_HZ at most: conflation), publish-to-socket latency of the newest value in each frame (p50
and p99), and daphne's memory before and after, with one more socket that never reads (its output must
stay bounded: it is skipped while behind, and gets the newest values if it ever reads again).
"""

import asyncio
import json
import threading
import time

from bench.common import Stack, make_sessions, open_socket, open_sockets, percentile, request
from bench.slowread import _stalled_socket


def add_arguments(parser):
    parser.add_argument("-n", "--sockets", type=int, default=1000, help="watching sockets, at most 5000")
    parser.add_argument("--keys", type=int, default=100, help="keys of the stream, at most 1000")
    parser.add_argument("--rate", type=float, default=1000.0, help="updates a second in all, at most 20000")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the updates come (at most 120)")


def _publish(stream, keys, rate, seconds, stop):
    import live

    started, sent = time.monotonic(), 0
    while not stop.is_set() and (elapsed := time.monotonic() - started) < seconds:
        while sent < int(elapsed * rate) + 1:
            live.publish(stream, f"K{sent % keys:04d}", {"n": sent, "t": time.time()})
            sent += 1
        time.sleep(0.001)
    return sent


async def main(args):
    n = max(1, min(args.sockets, 5000))
    keys, rate, seconds = max(1, min(args.keys, 1000)), max(1.0, min(args.rate, 20000.0)), min(args.seconds, 120.0)
    with Stack(redis_url=args.redis_url, layer_shards=args.layer_shards) as stack:
        cookies = [cookie for _, _, cookie in make_sessions(n + 1, prefix="stream")]
        sockets = [ws for ws, _ in await open_sockets(stack, cookies[:n])]
        for ws in sockets:
            assert (await request(ws, "stream:bench", "join", timeout=args.timeout))["ok"]
        sleeper_sock = _stalled_socket()
        await asyncio.get_running_loop().sock_connect(sleeper_sock, ("127.0.0.1", stack.port))
        sleeper, _ = await open_socket(stack, cookies[n], sock=sleeper_sock, max_queue=1)
        await request(sleeper, "stream:bench", "join")  # then never read again
        rss_before = stack.rss_kb()
        frames, latencies = [0] * n, []

        async def read(i, ws):
            try:
                async for text in ws:
                    frame = json.loads(text)
                    if frame.get("event") == "ticks":
                        frames[i] += 1
                        newest = max(value["t"] for value in frame["payload"]["values"].values())
                        if i % 10 == 0:  # a tenth of the sockets keep latencies: the client must not be the limit
                            latencies.append(time.time() - newest)
            except Exception:
                pass

        readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
        stop = threading.Event()
        started = time.monotonic()
        try:
            sent = await asyncio.wait_for(asyncio.to_thread(_publish, "bench", keys, rate, seconds, stop),
                                          timeout=seconds + args.timeout)
        finally:
            stop.set()
        await asyncio.sleep(1.0)  # the last frames (one feed interval and a little)
        elapsed = time.monotonic() - started
        rss_after = stack.rss_kb()
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in [*sockets, sleeper]), return_exceptions=True)
    per_socket = [count / elapsed for count in frames]
    print(f"stream: {n} sockets on one stream of {keys} keys, {sent} updates in {seconds:.0f} s "
          f"({sent / seconds:,.0f} a second), plus one socket that never reads")
    print(f"  frames per socket per second: median {percentile(per_socket, 0.5):.1f}, max {max(per_socket):.1f}")
    print(f"  publish to socket, newest value of each frame: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms ({len(latencies):,} frames)")
    print(f"  daphne RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB after")

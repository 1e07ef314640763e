"""Slow readers: N sockets that never read ask for `history` at the frame budget; the server's memory.

Each attacker socket (one account, N sockets) has a 4 KiB receive buffer and stops reading
after its join, then sends `history` (100 messages of 4,000 characters: ~400 KB a reply) at
the default per-socket frame budget (20 a second) for --seconds (the per-user budget,
HUB_USER_BUDGET, is lifted as in every scenario, so the cap is measured alone). A normal user on the same
server asks for the same page once a second and reads it. Reported for each run: daphne's
resident memory before, at its peak and --hold seconds after the attackers stopped sending
(their sockets still open and unread, unless the server closed them), the sockets the server
closed as slow consumers, and the normal user's history round trips. Two runs, one after the
other in one invocation: without the cap (HUB_MAX_BUFFERED=0) and with it (--cap).
"""

import asyncio
import json
import socket
import time

from bench.common import Stack, make_sessions, open_socket, percentile, request, room_with_long_messages

MAX_SOCKETS = 20  # HUB_MAX_SOCKETS_PER_USER's default: what one account may hold


def add_arguments(parser):
    parser.add_argument("-n", "--sockets", type=int, default=5, help=f"non-reading sockets, at most {MAX_SOCKETS}")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long they send (at most 60)")
    parser.add_argument("--hold", type=float, default=3.0, help="seconds to wait, sockets unread, before measuring 'after'")
    parser.add_argument("--cap", type=int, default=1024 * 1024, help="HUB_MAX_BUFFERED of the second run")


def _stalled_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no autotuning
    sock.setblocking(False)
    return sock


async def _attacker(stack, cookie, seconds):
    sock = _stalled_socket()
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", stack.port))
    ws, _ = await open_socket(stack, cookie, sock=sock, max_queue=1)
    await request(ws, "room:bench", "join")
    sent, deadline = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            await ws.send(json.dumps({"topic": "room:bench", "event": "history", "payload": {"limit": 100},
                                      "ref": f"h{sent}"}))
            sent += 1
            await asyncio.sleep(0.05)  # 20 a second: HUB_FRAME_RATE's default, 200/10s
    except Exception:
        pass  # the server dropped this socket (the cap did its work)
    return ws, sent


async def _run(args, cap):
    env = {"HUB_MAX_BUFFERED": str(cap), "HUB_FRAME_RATE": "200/10s"}
    with Stack(redis_url=args.redis_url, env=env) as stack:
        sessions = make_sessions(2, prefix=f"slow{cap}-")
        (author_id, _, attacker_cookie), (_, _, reader_cookie) = sessions
        room_with_long_messages(author_id)
        reader, _ = await open_socket(stack, reader_cookie)
        await request(reader, "room:bench", "join")
        await request(reader, "room:bench", "history", {"limit": 100})  # warm-up
        rss_before = stack.rss_kb()
        peak = [rss_before]
        stop = asyncio.Event()

        async def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], stack.rss_kb())
                await asyncio.sleep(0.1)

        rtts = []

        async def read_history():
            while not stop.is_set():
                started = time.perf_counter()
                await request(reader, "room:bench", "history", {"limit": 100})
                rtts.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(1)

        sampler, normal = asyncio.ensure_future(sample()), asyncio.ensure_future(read_history())
        n = max(1, min(args.sockets, MAX_SOCKETS))
        attackers = await asyncio.gather(*(_attacker(stack, attacker_cookie, min(args.seconds, 60)) for _ in range(n)))
        await asyncio.sleep(args.hold)
        rss_after = stack.rss_kb()
        stop.set()
        await asyncio.gather(sampler, normal)
        with open(stack.log.name) as log:
            closed = log.read().count("closing slow consumer")
        for ws, _ in attackers:
            ws.transport.abort()
        await reader.close()
        return {
            "cap": cap, "sent": sum(sent for _, sent in attackers), "closed": closed, "n": n,
            "before": rss_before / 1024, "peak": peak[0] / 1024, "after": rss_after / 1024,
            "p50": percentile(rtts, 0.5), "p99": percentile(rtts, 0.99),
        }


async def main(args):
    results = [await _run(args, 0), await _run(args, max(1, args.cap))]
    print(f"{args.sockets} non-reading sockets of one account, history at 20/s each for {args.seconds:g} s")
    print("| HUB_MAX_BUFFERED | requests sent | closed 4413 | RSS before | peak | after | normal user's history p50 / p99 |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        cap = "0 (no cap)" if r["cap"] == 0 else f"{r['cap']:,} B"
        print(f"| {cap} | {r['sent']} | {r['closed']} of {r['n']} | {r['before']:.0f} MiB | {r['peak']:.0f} MiB "
              f"| {r['after']:.0f} MiB | {r['p50']:.0f} / {r['p99']:.0f} ms |")

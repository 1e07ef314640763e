"""Flood: one account's sockets keep the server busy; another user's send round trip.

The attacker holds --sockets sockets (default 20, HUB_MAX_SOCKETS_PER_USER's default) joined to
a room of 100 messages of 4,000 characters, and each sends frames at the default per-socket
frame budget (20 a second) for --seconds: `history` pages (until the per-user budget refuses
them) and `read` markers (a database write each), reading every reply. A normal user in the
same room sends a message every 200 ms and times each send until its reply. The limits are
the defaults (HUB_FRAME_RATE, HUB_USER_BUDGET), except HUB_CHAT_RATE, lifted for the normal
user's pace. Phases, one invocation: no attacker; the attacker against the limits as they were
before issue 10 (HUB_USER_BUDGET lifted, HUB_USER_FRAMES_IN_FLIGHT=0); with the per-user budget
only; with both (the defaults).
"""

import asyncio
import json
import time

from bench.common import Stack, make_sessions, open_socket, percentile, request, room_with_long_messages

MAX_SOCKETS = 20


def add_arguments(parser):
    parser.add_argument("--sockets", type=int, default=20, help=f"attacker sockets, at most {MAX_SOCKETS}")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase (at most 60)")


async def _attacker(ws, stop, served):
    """Frames at 20 a second: a history page, then three read markers, and again; every reply read."""
    refs = 0

    async def reader():
        while True:
            frame = json.loads(await ws.recv())
            if frame["event"] == "reply":
                served[frame["payload"]["ok"]] += 1

    reading = asyncio.ensure_future(reader())
    try:
        while not stop.is_set():
            event, payload = ("history", {"limit": 100}) if refs % 4 == 0 else ("read", {"up_to": 10**9})
            await ws.send(json.dumps({"topic": "room:bench", "event": event, "payload": payload, "ref": f"f{refs}"}))
            refs += 1
            await asyncio.sleep(0.05)
    finally:
        await asyncio.sleep(0.5)  # replies still on their way
        reading.cancel()


async def _normal_user(ws, seconds):
    rtts, deadline, n = [], time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        await request(ws, "room:bench", "send", {"body": f"hello {n}"})
        rtts.append((time.perf_counter() - started) * 1000)
        n += 1
        await asyncio.sleep(max(0.0, 0.2 - (time.perf_counter() - started)))
    return rtts


async def _phase(stack, attacker_cookie, normal, sockets, seconds):
    served = {True: 0, False: 0}
    stop = asyncio.Event()
    attackers = []
    for _ in range(sockets):
        ws, _ = await open_socket(stack, attacker_cookie)
        await request(ws, "room:bench", "join")
        attackers.append(ws)
    tasks = [asyncio.ensure_future(_attacker(ws, stop, served)) for ws in attackers]
    rtts = await _normal_user(normal, seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for ws in attackers:
        await ws.close()
    return rtts, served


async def _run(args, label, budget, in_flight, baseline=False):
    env = {"HUB_FRAME_RATE": "200/10s", "HUB_USER_BUDGET": budget, "HUB_CHAT_RATE": "1000/10s",
           "HUB_MAX_SOCKETS_PER_USER": "20", "HUB_USER_FRAMES_IN_FLIGHT": str(in_flight)}
    with Stack(redis_url=args.redis_url, env=env) as stack:
        (author_id, _, attacker_cookie), (_, _, normal_cookie) = make_sessions(2, prefix=f"flood{in_flight}-")
        room_with_long_messages(author_id)
        normal, _ = await open_socket(stack, normal_cookie)
        await request(normal, "room:bench", "join")
        results = []
        if baseline:
            results.append(("no attacker", await _normal_user(normal, args.seconds), None))
        rtts, served = await _phase(stack, attacker_cookie, normal, max(1, min(args.sockets, MAX_SOCKETS)),
                                    args.seconds)
        results.append((label, rtts, served))
        await normal.close()
        return results


async def main(args):
    args.seconds = max(1.0, min(args.seconds, 60.0))
    rows = (await _run(args, "attacker, limits before issue 10 (no per-user budget, no turn)", "1000000/1s", 0,
                       baseline=True)
            + await _run(args, "attacker, HUB_USER_BUDGET 600/10s only", "600/10s", 0)
            + await _run(args, "attacker, HUB_USER_BUDGET and 2 frames in flight per user (defaults)", "600/10s", 2))
    print(f"attacker: {args.sockets} sockets x 20 frames/s (history, read, read, read); normal user: a send every 200 ms;"
          f" {args.seconds:g} s per phase")
    print("| phase | normal user's send p50 / p99 / max | sends | attacker frames answered ok / refused |")
    print("|---|---|---|---|")
    for label, rtts, served in rows:
        attack = "–" if served is None else f"{served[True]} / {served[False]}"
        print(f"| {label} | {percentile(rtts, 0.5):.0f} / {percentile(rtts, 0.99):.0f} / {max(rtts):.0f} ms "
              f"| {len(rtts)} | {attack} |")

"""Chat: N sockets in one room, one sender at a fixed rate; deliveries/s and send->receipt latency.

--design hub     Hub's room topic (auth, a database write per message, pub/sub layer)
--design hub-core  the same with channels-redis's list-based core layer (HUB_CHANNEL_LAYER=core)
--design stock   the Channels tutorial's shape: one AsyncJsonWebsocketConsumer, group_send per
                 message on the core layer, no auth and no database write
Sender and receivers run in this process; latency uses this process's clock.
"""

import asyncio
import json
import time

from bench.common import Stack, make_sessions, open_socket, open_sockets, percentile, request

DESIGNS = ("hub", "hub-core", "stock")


def add_arguments(parser):
    parser.add_argument("-n", "--sockets", type=int, default=500, help="receiving sockets, at most 5000")
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second from the sender")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the sender sends")
    parser.add_argument("--design", choices=DESIGNS, nargs="+", default=["hub", "stock"])
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after the joins before sending (lets room presence diffs finish)")


async def _open_joined(stack, design, n, args):
    """The sender and n receivers, joined to the bench room (the stock design has no join)."""
    if design == "stock":
        cookies = [""] * (n + 1)
    else:
        from chat.models import Room

        Room.objects.get_or_create(slug="bench", defaults={"name": "Bench", "kind": "public"})
        cookies = [cookie for _, _, cookie in make_sessions(n + 1, prefix=f"chat{design.replace('-', '')}")]
    sender, _ = await open_socket(stack, cookies[0])
    receivers = [ws for ws, _ in await open_sockets(stack, cookies[1:])]
    if design != "stock":
        gate = asyncio.Semaphore(20)

        async def join(ws):
            async with gate:
                reply = await request(ws, "room:bench", "join", timeout=args.timeout)
            if not reply["ok"]:
                raise RuntimeError(f"join failed: {reply}")

        await asyncio.gather(*(join(ws) for ws in [sender, *receivers]))
    return sender, receivers


def _body_of(design, frame):
    if design == "stock":
        return frame.get("message")
    if frame.get("event") == "message":
        return frame["payload"]["message"]["body"]
    return None


async def _send_at_rate(sender, design, total, rate):
    """`total` messages, each stamped with its send time, paced at `rate` per second; returns the start time."""
    started = time.perf_counter()
    for seq in range(total):
        body = f"bench {seq} {time.perf_counter()}"
        if design == "stock":
            await sender.send(json.dumps({"message": body}))
        else:
            await sender.send(json.dumps({"topic": "room:bench", "event": "send", "payload": {"body": body}}))
        await asyncio.sleep(max(0, started + (seq + 1) / rate - time.perf_counter()))
    return started


async def run_design(design, args):
    n = min(args.sockets, 5000)
    env = {"HUB_CHAT_RATE": "1000000/1s"}
    if design == "hub-core":
        env["HUB_CHANNEL_LAYER"] = "core"
    stack_args = {"app": "bench.stock.asgi:application", "settings": "bench.stock.settings"} if design == "stock" else {}
    total = int(args.rate * args.seconds)
    expected = total * n
    latencies, last_seen, done = [], [0.0], asyncio.Event()

    async def receive(ws, counted=True):
        async for text in ws:
            body = _body_of(design, json.loads(text))
            if counted and body and body.startswith("bench "):
                now = time.perf_counter()
                latencies.append(now - float(body.split()[2]))
                last_seen[0] = now
                if len(latencies) == expected:
                    done.set()

    with Stack(redis_url=args.redis_url, env=env, **stack_args) as stack:
        sender, receivers = await _open_joined(stack, design, n, args)
        readers = [asyncio.create_task(receive(ws)) for ws in receivers]
        drain = asyncio.create_task(receive(sender, counted=False))  # replies and its own copies; not counted
        await asyncio.sleep(min(args.settle, 60))
        started = await _send_at_rate(sender, design, total, args.rate)
        try:
            await asyncio.wait_for(done.wait(), args.timeout)
        except TimeoutError:
            pass
        for task in [*readers, drain]:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in [sender, *receivers]), return_exceptions=True)
    elapsed = (last_seen[0] or time.perf_counter()) - started
    return {"design": design, "sockets": n, "messages": total, "delivered": len(latencies), "expected": expected,
            "per_sec": len(latencies) / elapsed if elapsed > 0 else 0,
            "p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}


async def main(args):
    results = [await run_design(design, args) for design in args.design]
    print(f"chat: {args.sockets} receivers in one room, 1 sender at {args.rate}/s for {args.seconds} s")
    print(f"  {'design':10} {'delivered':>17} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8}")
    for r in results:
        print(f"  {r['design']:10} {r['delivered']:>8}/{r['expected']:<8} {r['per_sec']:>13.0f} "
              f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}")

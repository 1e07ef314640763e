"""Chat: N sockets in one room, one sender at a fixed rate; deliveries/s and send->receipt latency.

--design hub     Hub's room topic (auth, a database write per message, pub/sub layer)
--design hub-core  the same with channels-redis's list-based core layer (HUB_CHANNEL_LAYER=core)
--design stock   the Channels tutorial's shape: one AsyncJsonWebsocketConsumer, group_send per
                 message on the core layer, no auth and no database write
--design ceiling a bare `websockets` server broadcasting each message to every socket (bench/ceiling.py):
                 no Django, no Redis, no database; what one Python process can do at best
Sender and receivers run in this process; latency uses this process's clock.
"""

import asyncio
import json
import time

from bench.ceiling import CeilingStack
from bench.common import Stack, make_sessions, open_socket, open_sockets, percentile, request

DESIGNS = ("hub", "hub-core", "stock", "ceiling")
BARE = ("stock", "ceiling")
P99_LIMIT_MS = 250
FIND_MAX_STEP = 1.5  # each trial offers this many times the last one's rate
FIND_MAX_TRIALS = 14  # 1.5^13: from 5 msg/s to over 900  # no join, no auth: `{"message": body}` frames


def add_arguments(parser):
    parser.add_argument("-n", "--sockets", type=int, default=500, help="receiving sockets, at most 5000")
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second from the sender")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the sender sends")
    parser.add_argument("--design", choices=DESIGNS, nargs="+", default=["hub", "stock"])
    parser.add_argument("--find-max", action="store_true",
                        help=f"raise the rate from --rate by x{1.5} per trial until a design no longer keeps up "
                             f"(p99 over 250 ms or deliveries behind); report the highest it sustained")
    parser.add_argument("--processes", type=int, default=1, choices=range(1, 9), metavar="N",
                        help="daphne processes for Hub's designs (1 to 8), on one Redis; receivers spread over them")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after the joins before sending (lets room presence diffs finish)")


async def _open_joined(stack, design, n, args):
    """The sender and n receivers, joined to the bench room (the bare designs have no join).

    With --processes N (Hub's designs), N-1 more daphne processes share the stack's database
    and Redis, and the receivers are spread over all N in turn; the sender uses the first.
    """
    if design in BARE:
        cookies = [""] * (n + 1)
    else:
        from chat.models import Room

        Room.objects.get_or_create(slug="bench", defaults={"name": "Bench", "kind": "public"})
        cookies = [cookie for _, _, cookie in make_sessions(n + 1, prefix=f"chat{design.replace('-', '')}")]
    servers = [stack] + ([stack.add_process() for _ in range(args.processes - 1)] if design not in BARE else [])
    sender, _ = await open_socket(stack, cookies[0])
    receivers = []
    for i, server in enumerate(servers):
        receivers += [ws for ws, _ in await open_sockets(server, cookies[1 + i::len(servers)])]
    if design not in BARE:
        gate = asyncio.Semaphore(20)

        async def join(ws):
            async with gate:
                reply = await request(ws, "room:bench", "join", timeout=args.timeout)
            if not reply["ok"]:
                raise RuntimeError(f"join failed: {reply}")

        await asyncio.gather(*(join(ws) for ws in [sender, *receivers]))
    return sender, receivers


def _body_of(design, frame):
    if design in BARE:
        return frame.get("message")
    if frame.get("event") == "message":
        return frame["payload"]["message"]["body"]
    return None


async def _send_at_rate(sender, design, total, rate, trial):
    """`total` messages, each stamped with its trial and send time, paced at `rate` per second; the start time."""
    started = time.perf_counter()
    for seq in range(total):
        body = f"bench {trial} {seq} {time.perf_counter()}"
        if design in BARE:
            await sender.send(json.dumps({"message": body}))
        else:
            await sender.send(json.dumps({"topic": "room:bench", "event": "send", "payload": {"body": body}}))
        await asyncio.sleep(max(0, started + (seq + 1) / rate - time.perf_counter()))
    return started


def sustained(result):
    """A rate a design keeps up with: everything delivered, p99 within P99_LIMIT_MS, deliveries at the offered pace."""
    return (result["delivered"] == result["expected"] and result["p99_ms"] <= P99_LIMIT_MS
            and result["per_sec"] >= 0.9 * result["offered_per_sec"])


async def run_design(design, args):
    """Open the design's sockets once, then one trial per rate (--find-max: rising until one is not sustained)."""
    n = min(args.sockets, 5000)
    env = {"HUB_CHAT_RATE": "1000000/1s"}
    if design == "hub-core":
        env["HUB_CHANNEL_LAYER"] = "core"
    stack_args = {"app": "bench.stock.asgi:application", "settings": "bench.stock.settings"} if design == "stock" else {}
    trial = {"id": -1, "latencies": [], "last_seen": 0.0, "expected": 0, "done": asyncio.Event()}

    async def receive(ws, counted=True):
        async for text in ws:
            body = _body_of(design, json.loads(text))
            if counted and body and body.startswith(f"bench {trial['id']} "):
                now = time.perf_counter()
                trial["latencies"].append(now - float(body.split()[3]))
                trial["last_seen"] = now
                if len(trial["latencies"]) == trial["expected"]:
                    trial["done"].set()

    rates = [args.rate * FIND_MAX_STEP ** i for i in range(FIND_MAX_TRIALS)] if args.find_max else [args.rate]
    results = []
    stack = CeilingStack() if design == "ceiling" else Stack(redis_url=args.redis_url, env=env, **stack_args)
    with stack:
        sender, receivers = await _open_joined(stack, design, n, args)
        readers = [asyncio.create_task(receive(ws)) for ws in receivers]
        drain = asyncio.create_task(receive(sender, counted=False))  # replies and its own copies; not counted
        await asyncio.sleep(min(args.settle, 60))
        for number, rate in enumerate(rates):
            total = max(1, int(rate * args.seconds))
            trial.update(id=number, latencies=[], last_seen=0.0, expected=total * n, done=asyncio.Event())
            started = await _send_at_rate(sender, design, total, rate, number)
            try:
                await asyncio.wait_for(trial["done"].wait(), args.timeout)
            except TimeoutError:
                pass
            latencies = trial["latencies"]
            elapsed = (trial["last_seen"] or time.perf_counter()) - started
            result = {"design": design, "sockets": n, "rate": rate, "messages": total, "delivered": len(latencies),
                      "expected": total * n, "offered_per_sec": rate * n,
                      "per_sec": len(latencies) / elapsed if elapsed > 0 else 0,
                      "p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}
            results.append(result)
            if args.find_max:
                print(f"  {design}: {rate:.1f} msg/s offered ({rate * n:,.0f} deliveries/s): {result['per_sec']:,.0f}/s,"
                      f" p99 {result['p99_ms']:,.0f} ms{'' if sustained(result) else ' (not sustained)'}", flush=True)
                if not sustained(result):
                    break
                await asyncio.sleep(2)  # let the last trial's stragglers drain before the next
        for task in [*readers, drain]:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in [sender, *receivers]), return_exceptions=True)
    return results


async def main(args):
    runs = {design: await run_design(design, args) for design in args.design}
    if args.find_max:
        print(f"chat --find-max: {args.sockets} receivers in one room, {args.processes} daphne process(es) for Hub; "
              f"the highest rate each design sustained "
              f"(everything delivered, p99 <= {P99_LIMIT_MS} ms, at >= 90% of the offered pace)")
        print(f"  {'design':10} {'msg/s':>8} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8} {'x ceiling':>10}")
        best = {d: max((r for r in rs if sustained(r)), key=lambda r: r["per_sec"], default=None)
                for d, rs in runs.items()}
        ceiling = best.get("ceiling")
        for design, r in best.items():
            if r is None:
                print(f"  {design:10} none sustained, even at {args.rate}/s")
                continue
            ratio = f"{r['per_sec'] / ceiling['per_sec']:.2f}" if ceiling else "-"
            print(f"  {design:10} {r['rate']:>8.1f} {r['per_sec']:>13,.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
                  f"{ratio:>10}")
        return
    results = [rs[0] for rs in runs.values()]
    ceiling = next((r for r in results if r["design"] == "ceiling"), None)
    print(f"chat: {args.sockets} receivers in one room, 1 sender at {args.rate}/s for {args.seconds} s, "
          f"{args.processes} daphne process(es) for Hub")
    print(f"  {'design':10} {'delivered':>17} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8} {'x ceiling':>10}")
    for r in results:
        ratio = f"{r['per_sec'] / ceiling['per_sec']:.2f}" if ceiling and ceiling["per_sec"] else "-"
        print(f"  {r['design']:10} {r['delivered']:>8}/{r['expected']:<8} {r['per_sec']:>13.0f} "
              f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {ratio:>10}")

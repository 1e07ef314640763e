"""Chat: N sockets in one room, one sender at a fixed rate; deliveries/s and send->receipt latency.

--design hub     Hub's room topic (auth, a database write per message, pub/sub layer)
--design hub-core  the same with channels-redis's list-based core layer (HUB_CHANNEL_LAYER=core)
--design stock   the Channels tutorial's shape: one AsyncJsonWebsocketConsumer, group_send per
                 message on the core layer, no auth and no database write
--design ceiling a bare `websockets` server broadcasting each message to every socket (bench/ceiling.py):
                 no Django, no Redis, no database; what one Python process can do at best
The sender runs in this process, the receivers too or spread over --client-processes helper
processes; latency uses the system's monotonic clock (the same in every process).
Each row also gives the server processes' CPU time per 1,000 deliveries and the busiest process's
share of one core over the trial: when the bench client is the limit (it shares this machine's
two cores), they say how far the servers are from theirs, and whether N processes split the work.
"""

import asyncio
import json
import time

from bench.ceiling import CeilingStack
from bench.common import Stack, drain, make_sessions, open_socket, percentile, request
from bench.receivers import LocalReceivers, ProcessReceivers

DESIGNS = ("hub", "hub-core", "stock", "ceiling")
BARE = ("stock", "ceiling")  # no join, no auth: `{"message": body}` frames
P99_LIMIT_MS = 250
FIND_MAX_STEP = 1.5  # each trial offers this many times the last one's rate
FIND_MAX_TRIALS = 14  # 1.5^13: from 5 msg/s to over 900


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
    parser.add_argument("--client-processes", type=int, default=1, choices=range(1, 9), metavar="K",
                        help="spread the receiving sockets over K client processes (1 to 8): one Python process "
                             "reads about 63,000 frames a second, less than the fastest designs send")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after the joins before sending (lets room presence diffs finish)")


async def _open_sender_and_targets(stack, design, n, args):
    """The sender (joined, in this process), `[(server, cookie)]` for the n receivers, and the server processes.

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
    if design not in BARE:
        reply = await request(sender, "room:bench", "join", timeout=args.timeout)
        if not reply["ok"]:
            raise RuntimeError(f"join failed: {reply}")
    return sender, [(servers[i % len(servers)], cookie) for i, cookie in enumerate(cookies[1:])], servers


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
    rates = [args.rate * FIND_MAX_STEP ** i for i in range(FIND_MAX_TRIALS)] if args.find_max else [args.rate]
    results = []
    receivers = ProcessReceivers(args.client_processes) if args.client_processes > 1 else LocalReceivers()
    stack = CeilingStack() if design == "ceiling" else Stack(redis_url=args.redis_url, env=env, **stack_args,
                                                             layer_shards=0 if design == "stock" else args.layer_shards)
    with stack:
        sender, targets, servers = await _open_sender_and_targets(stack, design, n, args)
        await receivers.open(targets, design in BARE, args.timeout)
        draining = asyncio.create_task(drain(sender))  # replies and its own copies; not counted
        await asyncio.sleep(min(args.settle, 60))
        for number, rate in enumerate(rates):
            total = max(1, int(rate * args.seconds))

            def send(total=total, rate=rate, number=number):
                return _send_at_rate(sender, design, total, rate, number)

            cpu_before = [server.cpu_seconds() for server in servers]
            started, latencies, last_seen = await receivers.run_trial(number, total, send, args.timeout)
            elapsed = (last_seen or time.perf_counter()) - started
            cpu = [server.cpu_seconds() - before for server, before in zip(servers, cpu_before)]
            result = {"design": design, "sockets": n, "rate": rate, "messages": total, "delivered": len(latencies),
                      "expected": total * n, "offered_per_sec": rate * n,
                      "per_sec": len(latencies) / elapsed if elapsed > 0 else 0,
                      "p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
                      # The server processes' CPU over the trial (until the last delivery): their sum per
                      # 1,000 deliveries, and the busiest one's share of a core (100% = that process is the limit).
                      "cpu_ms_per_1k": sum(cpu) * 1e6 / len(latencies) if latencies else 0,
                      "busiest_cpu_pct": max(cpu) * 100 / elapsed if elapsed > 0 else 0}
            results.append(result)
            if args.find_max:
                print(f"  {design}: {rate:.1f} msg/s offered ({rate * n:,.0f} deliveries/s): {result['per_sec']:,.0f}/s,"
                      f" p99 {result['p99_ms']:,.0f} ms, server CPU {result['cpu_ms_per_1k']:.1f} ms per 1,000, busiest"
                      f" process {result['busiest_cpu_pct']:.0f}% of a core{'' if sustained(result) else ' (not sustained)'}",
                      flush=True)
                if not sustained(result):
                    break
                await asyncio.sleep(2)  # let the last trial's stragglers drain before the next
        draining.cancel()
        await sender.close()
        await receivers.close()
    return results


async def main(args):
    runs = {design: await run_design(design, args) for design in args.design}
    if args.find_max:
        print(f"chat --find-max: {args.sockets} receivers in one room ({args.client_processes} client process(es)), "
              f"{args.processes} daphne process(es) for Hub; "
              f"the highest rate each design sustained "
              f"(everything delivered, p99 <= {P99_LIMIT_MS} ms, at >= 90% of the offered pace)")
        print(f"  {'design':10} {'msg/s':>8} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8} {'x ceiling':>10}"
              f" {'CPU ms/1k':>10} {'busiest %':>10}")
        best = {d: max((r for r in rs if sustained(r)), key=lambda r: r["per_sec"], default=None)
                for d, rs in runs.items()}
        ceiling = best.get("ceiling")
        for design, r in best.items():
            if r is None:
                print(f"  {design:10} none sustained, even at {args.rate}/s")
                continue
            ratio = f"{r['per_sec'] / ceiling['per_sec']:.2f}" if ceiling else "-"
            print(f"  {design:10} {r['rate']:>8.1f} {r['per_sec']:>13,.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
                  f"{ratio:>10} {r['cpu_ms_per_1k']:>10.1f} {r['busiest_cpu_pct']:>10.0f}")
        return
    results = [rs[0] for rs in runs.values()]
    ceiling = next((r for r in results if r["design"] == "ceiling"), None)
    print(f"chat: {args.sockets} receivers in one room, 1 sender at {args.rate}/s for {args.seconds} s, "
          f"{args.processes} daphne process(es) for Hub")
    print(f"  {'design':10} {'delivered':>17} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8} {'x ceiling':>10}"
          f" {'CPU ms/1k':>10} {'busiest %':>10}")
    for r in results:
        ratio = f"{r['per_sec'] / ceiling['per_sec']:.2f}" if ceiling and ceiling["per_sec"] else "-"
        print(f"  {r['design']:10} {r['delivered']:>8}/{r['expected']:<8} {r['per_sec']:>13.0f} "
              f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {ratio:>10} {r['cpu_ms_per_1k']:>10.1f} {r['busiest_cpu_pct']:>10.0f}")

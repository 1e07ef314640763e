"""Notify: one notify() call to N online users; time until the last socket receives it.

N users each hold one socket joined to `notifications`. The bench process calls
notifications.notify() with all N users (one bulk insert, one query for the unread
counts, one pipelined round trip of pushes) and reports how long the call took and the
time from its return until the last socket received its `new` push. `--push sequential`
replaces the pipeline with one PUBLISH round trip per recipient, for comparison.
"""

import asyncio
import json
import time

from bench.common import Stack, make_sessions, open_sockets, percentile, request

MAX_USERS = 5000


def add_arguments(parser):
    parser.add_argument("-n", "--users", type=int, default=1000, help=f"online users (one socket each), at most {MAX_USERS}")
    parser.add_argument("--rounds", type=int, default=5, help="notify() calls, one after another (at most 50)")
    parser.add_argument("--push", choices=("pipelined", "sequential"), default="pipelined",
                        help="how the pushes reach Redis: one pipelined round trip (the real code) or one per user")


def _sequential_push_each(pushes, *, on_commit=True):
    """The naive fan-out notify() avoids: one PUBLISH round trip per recipient (sent at once: the bench autocommits)."""
    from hub.push import publish, push_message, user_group

    for user_id, topic, event, payload in pushes:
        publish([user_group(user_id)], push_message(topic, event, payload))


async def main(args):
    n = max(1, min(args.users, MAX_USERS))
    rounds = max(1, min(args.rounds, 50))
    with Stack(redis_url=args.redis_url, layer_shards=args.layer_shards) as stack:
        sessions = make_sessions(n, prefix="note")
        sockets = [ws for ws, _ in await open_sockets(stack, [cookie for _, _, cookie in sessions])]
        await asyncio.gather(*(request(ws, "notifications", "join") for ws in sockets))
        from django.contrib.auth import get_user_model

        import notifications
        from notifications import services

        if args.push == "sequential":
            services.push_each = _sequential_push_each
        users = list(get_user_model().objects.filter(username__startswith="note"))
        notifications.notify(users[:1], "warm-up")  # first-use costs (connections, imports) out of round 0
        results = []
        for round_no in range(rounds):
            verb = f"bench round {round_no}"
            arrivals = []

            async def wait_one(ws):
                async with asyncio.timeout(args.timeout):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["event"] == "new" and frame["payload"]["notification"]["verb"] == verb:
                            arrivals.append(time.perf_counter())
                            return

            waiters = [asyncio.create_task(wait_one(ws)) for ws in sockets]
            await asyncio.sleep(0)
            redis_before = stack.redis_cpu_seconds()
            started = time.perf_counter()
            notifications.notify(users, verb)  # autocommit: the push is sent before it returns
            returned = time.perf_counter()
            await asyncio.gather(*waiters)
            redis_cpu = {name: seconds - redis_before[name] for name, seconds in stack.redis_cpu_seconds().items()}
            results.append((returned - started, max(arrivals) - returned,
                            percentile([a - returned for a in arrivals], 0.5), max(arrivals) - started, redis_cpu))
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    print(f"notify: one notify() to {n} online users, {rounds} rounds, {args.push} pushes, "
          f"layer on {args.layer_shards or 'the main'} Redis{' shards' if args.layer_shards else ''}")
    for i, (call, last, median, total, redis_cpu) in enumerate(results):
        print(f"  round {i}: notify() took {call * 1000:.0f} ms; after it returned: median socket "
              f"{max(median, 0) * 1000:.0f} ms, last socket {last * 1000:.0f} ms; call to last socket "
              f"{total * 1000:.0f} ms; Redis CPU ms " + ", ".join(f"{k} {v * 1000:.0f}" for k, v in redis_cpu.items()))
    call, last, _, total = (percentile([r[k] for r in results], 0.5) * 1000 for k in range(4))
    print(f"  median over rounds: notify() {call:.0f} ms, last socket {last:.0f} ms after it returned, "
          f"{total:.0f} ms after it was called")
    cpu_by_server = {name: percentile([r[4][name] for r in results], 0.5) * 1000 for name in results[0][4]}
    print("  median Redis CPU per round: " + ", ".join(f"{k} {v:.1f} ms" for k, v in cpu_by_server.items()))

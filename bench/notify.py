"""Notify: one notify() call to N online users; time until the last socket receives it.

N users each hold one socket joined to `notifications`. The bench process calls
notifications.notify() with all N users (one bulk insert, one pipelined round trip of
pushes) and reports how long the call took and the time from its return until the last
socket received its `new` push.
"""

import asyncio
import json
import time

from bench.common import Stack, make_sessions, open_sockets, percentile, request


def add_arguments(parser):
    parser.add_argument("-n", "--users", type=int, default=1000, help="online users (one socket each), at most 5000")
    parser.add_argument("--rounds", type=int, default=5, help="notify() calls, one after another")


async def main(args):
    n = min(args.users, 5000)
    with Stack(redis_url=args.redis_url) as stack:
        sessions = make_sessions(n, prefix="note")
        sockets = [ws for ws, _ in await open_sockets(stack, [cookie for _, _, cookie in sessions])]
        await asyncio.gather(*(request(ws, "notifications", "join") for ws in sockets))
        from django.contrib.auth import get_user_model

        import notifications

        users = list(get_user_model().objects.filter(username__startswith="note"))
        results = []
        for round_no in range(args.rounds):
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
            started = time.perf_counter()
            notifications.notify(users, verb)  # autocommit: the push is sent before it returns
            returned = time.perf_counter()
            await asyncio.gather(*waiters)
            results.append((returned - started, max(arrivals) - returned, percentile([a - returned for a in arrivals], 0.5)))
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    print(f"notify: one notify() to {n} online users, {args.rounds} rounds")
    for i, (call, last, median) in enumerate(results):
        print(f"  round {i}: notify() took {call * 1000:.0f} ms; after it returned: median socket "
              f"{max(median, 0) * 1000:.0f} ms, last socket {last * 1000:.0f} ms")

"""Writes: what one chat send and one notify() cost the code that calls them, in microseconds.

In this process, against the private stack's database and Redis: --calls calls of
chat.services.messages.message_send (the socket's, the admin's and a command's send: store
with its position, push after the commit) into one room, then as many
notifications.notify() calls to one user, each in autocommit as a management command makes
them. Reports the median and the 90th percentile of --rounds rounds, µs per call.
"""

import statistics
import time

from bench.common import Stack, make_sessions


def add_arguments(parser):
    parser.add_argument("--calls", type=int, default=400, help="calls per round, at most 5000")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, at most 20")


def _time_per_call(calls, call):
    started = time.perf_counter()
    for i in range(calls):
        call(i)
    return (time.perf_counter() - started) / calls * 1e6


async def main(args):
    calls = max(1, min(args.calls, 5000))
    rounds = max(1, min(args.rounds, 20))
    with Stack(redis_url=args.redis_url):
        from django.contrib.auth import get_user_model

        from chat.models import Room
        from chat.services.messages import message_send
        from notifications.services import notify

        make_sessions(2, prefix="writer")
        author, reader = get_user_model().objects.filter(username__startswith="writer").order_by("id")
        room = Room.objects.create(slug="writes", name="Writes", kind="public")
        message_send(room=room, author=author, body="warm-up")
        notify(reader, "warm-up")
        sends, notifies = [], []
        for _ in range(rounds):
            sends.append(_time_per_call(calls, lambda i: message_send(room=room, author=author, body=f"m{i}")))
            notifies.append(_time_per_call(calls, lambda i: notify(reader, f"n{i}")))
        for name, figures in (("message_send", sends), ("notify (1 recipient)", notifies)):
            print(f"{name}: median {statistics.median(figures):,.0f} µs per call, rounds "
                  f"{', '.join(f'{f:,.0f}' for f in figures)}")

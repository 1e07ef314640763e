"""Presence: N sockets connect and join `presence` (a reconnect storm); time until every view is right.

Each socket keeps a view as a client following docs/protocol.md does: its join reply, then
every `diff` (a diff whose `more` differs from the view's makes it re-join). A view is right
when, for a small set, it holds all N users, and, for a large one (above --list-max users),
its count is N and every user it watches (--watch K others, sent as `watch` with the join)
is online. Reports the time until every view is right, the `diff` frames and the PRESENCE
entries each socket received (join replies included), and the server's RSS per socket.
"""

import asyncio
import json
import random
import time

from bench.common import Stack, make_sessions, open_socket

MAX_SOCKETS = 10_000


def add_arguments(parser):
    parser.add_argument("-n", "--sockets", type=int, default=500, help=f"sockets (and users), at most {MAX_SOCKETS}")
    parser.add_argument("--concurrency", type=int, default=25, help="handshakes in flight at once")
    parser.add_argument("--watch", type=int, default=0, help="other users each socket watches (at most 200)")
    parser.add_argument("--list-max", type=int, default=500, help="the server's HUB_PRESENCE_LIST_MAX")


class View:
    """What one socket knows: the users it has seen online, the count, whether the set is large."""

    def __init__(self, watched):
        self.watched = watched  # user ids
        self.online, self.count, self.more = set(), 0, False
        self.frames = self.entries = self.joins = 0

    def joined(self, data):
        self.joins += 1
        self.online = {u["id"] for u in data["users"]}
        self.count, self.more = data["count"], data["more"]
        self.entries += len(data["users"])

    def watch_answered(self, data):
        self.entries += len(data["users"])
        self.set(data["users"])

    def diff(self, payload):
        """Apply a diff; False when the set changed size class (re-join)."""
        self.frames += 1
        self.entries += len(payload["joins"]) + len(payload["leaves"]) + len(payload["updates"])
        if payload.get("more", self.more) != self.more:
            return False
        self.online.difference_update(u["id"] for u in payload["leaves"])
        self.set(payload["joins"] + payload["updates"])
        self.count = payload.get("count", self.count)
        return True

    def set(self, users):
        for user in users:
            (self.online.discard if user["status"] == "offline" else self.online.add)(user["id"])

    def right(self, n):
        if self.more:
            return self.count == n and self.watched <= self.online
        return len(self.online) == n


async def main(args):
    n = min(args.sockets, MAX_SOCKETS)
    k = max(0, min(args.watch, 200, n - 1))
    with Stack(redis_url=args.redis_url, env={"HUB_PRESENCE_LIST_MAX": str(args.list_max)}) as stack:
        sessions = make_sessions(n, prefix="pres")
        rng = random.Random(1)
        watch_lists = [rng.sample([s for j, s in enumerate(sessions) if j != i], k) if k else [] for i in range(n)]
        views = [View({uid for uid, _, _ in watched}) for watched in watch_lists]
        rss_before = stack.rss_kb()
        right = [False] * n
        count_right = [0]
        done = asyncio.Event()
        sockets = [None] * n
        gate = asyncio.Semaphore(args.concurrency)

        def check(i):
            now = views[i].right(n)
            if now != right[i]:
                right[i] = now
                count_right[0] += 1 if now else -1
                if count_right[0] == n:
                    done.set()

        async def join(ws, i):
            await ws.send(json.dumps({"topic": "presence", "event": "join", "payload": {}, "ref": f"j{i}"}))
            if k:
                names = [username for _, username, _ in watch_lists[i]]
                await ws.send(json.dumps({"topic": "presence", "event": "watch", "payload": {"users": names},
                                          "ref": f"w{i}"}))

        async def run(i, cookie):
            async with gate:
                ws, _ = await open_socket(stack, cookie)
            sockets[i] = ws
            await join(ws, i)
            async for text in ws:
                frame = json.loads(text)
                if frame["event"] == "reply":
                    if not frame["payload"]["ok"]:
                        raise RuntimeError(f"socket {i}: {frame}")
                    data = frame["payload"]["data"]
                    views[i].joined(data) if frame["ref"].startswith("j") else views[i].watch_answered(data)
                elif frame["topic"] == "presence" and frame["event"] == "diff":
                    if not views[i].diff(frame["payload"]):
                        await join(ws, i)
                        continue
                check(i)

        started = time.perf_counter()
        tasks = [asyncio.ensure_future(run(i, cookie)) for i, (_, _, cookie) in enumerate(sessions)]
        try:
            waiter = asyncio.ensure_future(done.wait())
            finished, _ = await asyncio.wait([waiter, *tasks], timeout=args.timeout,
                                             return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                if task is not waiter:
                    task.result()  # a socket that failed: say why
            converged = time.perf_counter() - started if done.is_set() else float("nan")
            rss_after = stack.rss_kb()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*(ws.close() for ws in sockets if ws), return_exceptions=True)
    frames = [v.frames for v in views]
    entries = [v.entries for v in views]
    print(f"presence: {n} sockets, HUB_PRESENCE_LIST_MAX {args.list_max}, each watching {k}")
    print(f"  every view right                {converged:.2f} s after the first connect "
          f"({sum(right)} of {n} right at the end)")
    print(f"  diff frames per socket          mean {sum(frames) / n:.1f}, max {max(frames)}")
    print(f"  PRESENCE entries per socket     mean {sum(entries) / n:.1f}, max {max(entries)} "
          f"(all sockets: {sum(entries):,})")
    print(f"  joins per socket                max {max(v.joins for v in views)} (a size-class change re-joins)")
    print(f"  server RSS                      {rss_before / 1024:.0f} MiB -> {rss_after / 1024:.0f} MiB "
          f"({(rss_after - rss_before) / n:.1f} KiB per socket)")

"""The receiving sockets of `bench chat`, in this process or spread over helper processes (--client-processes).

One Python process decodes about 63,000 frames a second on this machine: past that the bench
client, not the server, is what is measured. Helper processes each open and read a share of
the sockets and time every bench message they receive against the sender's stamp
(`time.perf_counter()` is the system's monotonic clock, the same in every process).
"""

import asyncio
import json
import multiprocessing
import time
import types

from bench.common import open_sockets, request


def body_of(bare, frame):
    if bare:
        return frame.get("message")
    if frame.get("event") == "message":
        return frame["payload"]["message"]["body"]
    return None


class Trial:
    """Latencies of one trial's messages as they arrive on a set of sockets."""

    def __init__(self):
        self.number, self.expected, self.latencies, self.last_seen = -1, 0, [], 0.0
        self.done = asyncio.Event()

    def start(self, number, expected):
        self.number, self.expected, self.latencies, self.last_seen = number, expected, [], 0.0
        self.done = asyncio.Event()
        if expected == 0:
            self.done.set()

    async def read(self, ws, bare):
        async for text in ws:
            body = body_of(bare, json.loads(text))
            prefix = f"bench {self.number} "
            if body and body.startswith(prefix):
                now = time.perf_counter()
                self.latencies.append(now - float(body.split()[3]))
                self.last_seen = now
                if len(self.latencies) == self.expected:
                    self.done.set()


async def open_and_join(targets, bare, timeout):
    """Sockets for `[(server, cookie)]` (server: anything with url and ws_url), joined to the bench room."""
    sockets = []
    by_server = {}
    for server, cookie in targets:
        by_server.setdefault((server.url, server.ws_url), []).append(cookie)
    for (url, ws_url), cookies in by_server.items():
        server = types.SimpleNamespace(url=url, ws_url=ws_url)
        sockets += [ws for ws, _ in await open_sockets(server, cookies)]
    if not bare:
        gate = asyncio.Semaphore(20)

        async def join(ws):
            async with gate:
                reply = await request(ws, "room:bench", "join", timeout=timeout)
            if not reply["ok"]:
                raise RuntimeError(f"join failed: {reply}")

        await asyncio.gather(*(join(ws) for ws in sockets))
    return sockets


class LocalReceivers:
    """The receivers in this process (the default)."""

    async def open(self, targets, bare, timeout):
        self.trial, self.sockets = Trial(), await open_and_join(targets, bare, timeout)
        self.readers = [asyncio.create_task(self.trial.read(ws, bare)) for ws in self.sockets]

    async def run_trial(self, number, expected_per_socket, send, timeout):
        self.trial.start(number, expected_per_socket * len(self.sockets))
        started = await send()
        try:
            await asyncio.wait_for(self.trial.done.wait(), timeout)
        except TimeoutError:
            pass
        return started, self.trial.latencies, self.trial.last_seen

    async def close(self):
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


def _helper(conn, targets, bare, timeout):
    """A helper process: open and join its sockets, then answer the parent's commands until told to stop."""
    async def main():
        trial = Trial()
        sockets = await open_and_join([(types.SimpleNamespace(url=u, ws_url=w), c) for u, w, c in targets],
                                      bare, timeout)
        readers = [asyncio.create_task(trial.read(ws, bare)) for ws in sockets]
        conn.send(("ready", len(sockets)))
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "start":
                trial.start(command[1], command[2] * len(sockets))
                conn.send(("started",))
            elif command[0] == "wait":
                try:
                    await asyncio.wait_for(trial.done.wait(), command[1])
                except TimeoutError:
                    pass
                conn.send((trial.latencies, trial.last_seen))
            else:
                break
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    from bench.common import raise_fd_limit

    raise_fd_limit()
    asyncio.run(main())


class ProcessReceivers:
    """The receivers spread over `count` helper processes."""

    def __init__(self, count):
        self.count = count

    async def open(self, targets, bare, timeout):
        context = multiprocessing.get_context("spawn")
        self.conns, self.processes = [], []
        for i in range(self.count):
            mine = [(server.url, server.ws_url, cookie) for server, cookie in targets[i::self.count]]
            parent, child = context.Pipe()
            process = context.Process(target=_helper, args=(child, mine, bare, timeout), daemon=True)
            process.start()
            self.conns.append(parent)
            self.processes.append(process)
        for conn in self.conns:
            reply = await asyncio.to_thread(self._recv, conn, timeout)
            if reply[0] != "ready":
                raise RuntimeError(f"a receiving process failed: {reply}")

    @staticmethod
    def _recv(conn, timeout):
        if not conn.poll(timeout):
            raise TimeoutError("a receiving process did not answer")
        return conn.recv()

    async def run_trial(self, number, expected_per_socket, send, timeout):
        for conn in self.conns:
            conn.send(("start", number, expected_per_socket))
        for conn in self.conns:
            await asyncio.to_thread(self._recv, conn, timeout)
        started = await send()
        for conn in self.conns:
            conn.send(("wait", timeout))
        latencies, last_seen = [], 0.0
        for conn in self.conns:
            got, last = await asyncio.to_thread(self._recv, conn, timeout + 30)
            latencies += got
            last_seen = max(last_seen, last)
        return started, latencies, last_seen

    async def close(self):
        for conn in self.conns:
            conn.send(("stop",))
        for process in self.processes:
            await asyncio.to_thread(process.join, 30)
            if process.is_alive():
                process.kill()

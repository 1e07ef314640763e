"""The ceiling design of `bench chat`: what one Python process can broadcast, with nothing else to do.

A bare `websockets` server (no Django, no auth, no Redis, no database): each text frame a
socket sends is parsed once, re-encoded once as `{"message": ...}` (the stock design's push)
and that one frame is written to every open socket (`websockets.broadcast`). Run as its own
process: `python -m bench.ceiling PORT`; CeilingStack starts and stops it like a Stack.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

from bench.common import BENCH_DIR, ROOT, Stack, free_port, raise_fd_limit

HELLO = json.dumps({"topic": "hub", "event": "hello", "payload": {}})  # the first frame every design sends


async def serve(port):
    import websockets
    from websockets.asyncio.server import broadcast, serve as ws_serve

    sockets = set()

    async def handler(ws):
        await ws.send(HELLO)
        sockets.add(ws)
        try:
            async for text in ws:
                broadcast(sockets, json.dumps({"message": json.loads(text)["message"]}))
        except websockets.ConnectionClosed:
            pass
        finally:
            sockets.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with ws_serve(handler, "127.0.0.1", port, max_size=2**16, ping_interval=None):
        await stop


class CeilingStack:
    """`with CeilingStack() as stack:` the ceiling server on a free loopback port (the Stack interface bench uses)."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    url = Stack.url
    pid = Stack.pid
    rss_kb = Stack.rss_kb
    cpu_seconds = Stack.cpu_seconds

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/"

    def start(self):
        import socket

        raise_fd_limit()
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        self.log = open(BENCH_DIR / f"ceiling-{self.port}.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "bench.ceiling", str(self.port)], cwd=ROOT,
                                        stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the ceiling server exited; see {self.log.name}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the ceiling server did not start in 30 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    raise_fd_limit()
    asyncio.run(serve(int(sys.argv[1])))

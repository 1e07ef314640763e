"""Live streams through real daphne: a socket that stops reading is skipped while it is behind (its output stays
under the cap: it is not closed 4413, though far more than HUB_MAX_BUFFERED is published meanwhile) and, once it
reads again, gets the newest value of every key, never an older one after a newer one."""

import asyncio
import json
import socket

import pytest
import websockets

import live
from hub.testing.servers import Browserless, DaphneServer, ws_request

PASSWORD = "correct-Horse-battery-9"
KEYS = 100
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def test_a_socket_that_stops_reading_gets_no_backlog_and_then_the_newest_values(amake_user):
    await amake_user("sleepy", password=PASSWORD)
    with DaphneServer() as server:
        client = await asyncio.to_thread(Browserless(server.url).login, "sleepy", PASSWORD)
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the kernel holds little
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
        ws = await websockets.connect(server.ws_url, sock=raw, additional_headers=client.ws_headers(),
                                      max_queue=1, max_size=2**24, ping_interval=None)
        assert json.loads(await ws.recv())["event"] == "hello"
        assert (await ws_request(ws, "stream:big", "join"))["ok"]
        # Now it reads nothing for 8 s: 100 keys of 900-byte values changed every 0.1 s, a 90 KB frame each
        # time the feed ticks (10 a second): over 7 MB, past the kernel's send buffer (4 MB at most) and
        # HUB_MAX_BUFFERED (1 MiB), which would close it 4413, unless the feed skips this socket.
        latest = {}
        for round_ in range(80):
            for k in range(KEYS):
                value = {"round": round_, "pad": "x" * 880}
                latest[f"k{k}"] = value
                await live.apublish("big", f"k{k}", value)
            await asyncio.sleep(0.1)
        seen, last_seq = {}, 0
        async with asyncio.timeout(30):
            while seen != latest:
                frame = json.loads(await ws.recv())
                if frame["event"] != "ticks":
                    continue
                assert frame["payload"]["seq"] > last_seq
                for key, value in frame["payload"]["values"].items():
                    assert value["round"] >= seen.get(key, {"round": -1})["round"]  # never older after newer
                seen.update(frame["payload"]["values"])
                last_seq = frame["payload"]["seq"]
        assert ws.close_code is None  # never closed 4413: it got no backlog
        await ws.close()

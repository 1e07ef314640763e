"""The socket over real daphne and a real network socket, logged in through the allauth form."""

import asyncio
import json

import pytest
import websockets

from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-Horse-battery-9"


@pytest.fixture
def server():
    with DaphneServer(HUB_MAX_FRAME=4096) as running:
        yield running


async def refused_status(server, headers):
    with pytest.raises(websockets.exceptions.InvalidStatus) as info:
        await websockets.connect(server.ws_url, additional_headers=headers, open_timeout=10)
    return info.value.response.status_code


async def test_login_speak_protocol_and_logout_closes_4401(server, amake_user):
    await amake_user("alice", password=PASSWORD)
    client = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
    ws, hello = await ws_connect(server, client)
    assert hello["user"]["username"] == "alice" and hello["protocol"] == 1
    reply = await ws_request(ws, "hub", "heartbeat", {"status": "online"})
    assert reply["ok"] and reply["data"]["server_time"]
    # Quiet for longer than redis-py's 5 s default socket timeout: the socket must survive.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 6)
    assert (await ws_request(ws, "hub", "heartbeat", ref="2"))["ok"]
    await ws.send("not json")
    error = json.loads(await ws.recv())
    assert error["topic"] == "hub" and error["payload"]["error"]["code"] == "bad_request"
    # A second tab of the same session is closed too.
    ws2, _ = await ws_connect(server, client)
    await asyncio.to_thread(client.logout)
    for socket in (ws, ws2):
        async with asyncio.timeout(2):
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    await socket.recv()
        assert closed.value.rcvd.code == 4401


async def test_handshakes_without_session_or_with_foreign_or_missing_origin_get_403(server, amake_user):
    await amake_user("alice", password=PASSWORD)
    client = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
    cookie = client.ws_headers()["Cookie"]
    assert await refused_status(server, {"Origin": server.url}) == 403
    assert await refused_status(server, {"Origin": "http://evil.example", "Cookie": cookie}) == 403
    assert await refused_status(server, {"Cookie": cookie}) == 403
    assert await refused_status(server, {"Origin": server.url, "Cookie": "sessionid=forged"}) == 403


async def test_oversized_frame_closes_1009(server, amake_user):
    await amake_user("alice", password=PASSWORD)
    client = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
    ws, _ = await ws_connect(server, client)
    other, _ = await ws_connect(server, client)
    await ws.send(json.dumps({"topic": "hub", "event": "heartbeat", "payload": {"pad": "x" * 5000}}))
    async with asyncio.timeout(5):
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            while True:
                await ws.recv()
    assert closed.value.rcvd.code == 1009
    # The other socket is unaffected.
    assert (await ws_request(other, "hub", "heartbeat"))["ok"]
    await other.close()


async def test_server_shutdown_closes_sockets_with_1001(amake_user):
    await amake_user("alice", password=PASSWORD)
    server = DaphneServer().start()
    try:
        client = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
        ws, _ = await ws_connect(server, client)
        await asyncio.to_thread(server.stop)
        async with asyncio.timeout(5):
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    finally:
        server.stop()
        server.log.close()

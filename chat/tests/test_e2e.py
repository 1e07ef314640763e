"""Two daphne processes sharing Redis and the database: a message sent on one arrives on the other."""

import asyncio

import pytest

from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_expect, ws_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-Horse-battery-9"


async def test_message_crosses_server_processes(amake_user, amake_room):
    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_room("lounge")
    with DaphneServer() as server_a, DaphneServer() as server_b:
        alice = await asyncio.to_thread(Browserless(server_a.url).login, "alice", PASSWORD)
        bob = await asyncio.to_thread(Browserless(server_b.url).login, "bob", PASSWORD)
        ws_a, _ = await ws_connect(server_a, alice)
        ws_b, _ = await ws_connect(server_b, bob)
        assert (await ws_request(ws_b, "room:lounge", "join"))["ok"]
        assert (await ws_request(ws_a, "room:lounge", "join"))["ok"]
        sent = await ws_request(ws_a, "room:lounge", "send", {"body": "across processes", "client_id": "x1"}, ref="2")
        pushed = await ws_expect(ws_b, "room:lounge", "message")
        assert pushed["message"] == sent["data"]["message"]
        await ws_a.close()
        await ws_b.close()

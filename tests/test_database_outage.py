"""PostgreSQL away (issue 13 §5, docs/operations.md "When a component fails"): daphne reaches the test database
through a proxy the test cuts. Meanwhile /healthz says so, a frame that needs the database is answered
`internal` and the socket stays open, heartbeats (Redis only) go on; once it is back, sends work again and
reach the others. PostgreSQL only: SQLite is a file, it cannot be away."""

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from django.db import connection

from hub.testing.proxy import CuttableProxy
from hub.testing.servers import Browserless, DaphneServer, database_url, free_port, ws_connect, ws_expect, ws_request

PASSWORD = "correct-Horse-battery-9"
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def healthz(server):
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_postgresql_away_fails_database_frames_only_and_everything_works_once_it_is_back(
        amake_user, amake_room):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the second CI run): SQLite cannot be away")
    settings_dict = connection.settings_dict
    proxy = CuttableProxy(free_port(), settings_dict.get("HOST") or "127.0.0.1",
                          int(settings_dict.get("PORT") or 5432)).start()
    proxied = database_url().replace(f":{settings_dict.get('PORT') or 5432}/", f":{proxy.listen_port}/")
    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_room("lounge")
    try:
        with DaphneServer(DATABASE_URL=proxied) as server:
            alice = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
            bob = await asyncio.to_thread(Browserless(server.url).login, "bob", PASSWORD)
            alice_ws, _ = await ws_connect(server, alice)
            bob_ws, _ = await ws_connect(server, bob)
            for ws in (alice_ws, bob_ws):
                assert (await ws_request(ws, "room:lounge", "join"))["ok"]
            proxy.cut()
            assert await asyncio.to_thread(healthz, server) == (503, {"db": "down", "redis": "ok"})
            failed = await ws_request(alice_ws, "room:lounge", "send", {"body": "while away"}, timeout=30)
            assert failed["error"]["code"] == "internal"
            assert (await ws_request(alice_ws, "hub", "heartbeat", {"status": "online"}))["ok"]  # Redis only
            with pytest.raises(urllib.error.HTTPError) as page:  # a page needs the session, in the database
                await asyncio.to_thread(alice.get, "/")
            assert page.value.code >= 500
            proxy.restore()
            sent = await ws_request(alice_ws, "room:lounge", "send", {"body": "back again"}, timeout=30)
            assert sent["ok"], sent
            got = await ws_expect(bob_ws, "room:lounge", "message", where=lambda p: p["message"]["body"] == "back again")
            assert got["message"]["author"]["username"] == "alice"
            assert await asyncio.to_thread(healthz, server) == (200, {"db": "ok", "redis": "ok"})
            assert alice_ws.close_code is None and bob_ws.close_code is None  # nobody was disconnected
            await alice_ws.close()
            await bob_ws.close()
    finally:
        proxy.stop()

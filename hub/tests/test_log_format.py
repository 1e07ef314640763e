"""Log lines (issue 13 §5): JSON with LOG_FORMAT=json, the socket's connection and user id on every line
logged while serving it, and no message body anywhere, from a real daphne process."""

import asyncio
import json
import logging

import pytest
import websockets

from hub.log_format import JsonFormatter, SocketFields, socket_context
from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_request

PASSWORD = "correct-Horse-battery-9"
SECRET_BODY = "do-not-log-this-body-7f3a"


def _line(message, *, exc=False):
    record = logging.LogRecord("hub.test", logging.WARNING, __file__, 1, message, (), None)
    if exc:
        try:
            raise RuntimeError("boom\nsecond line")
        except RuntimeError:
            import sys

            record.exc_info = sys.exc_info()
    SocketFields().filter(record)
    return JsonFormatter().format(record)


def test_a_json_line_names_the_socket_only_inside_its_context():
    outside = json.loads(_line("no socket here"))
    assert outside["message"] == "no socket here" and outside["level"] == "WARNING" and "conn" not in outside
    token = socket_context.set(("abc123", 7))
    try:
        inside = _line("serving", exc=True)
    finally:
        socket_context.reset(token)
    assert "\n" not in inside  # one line, the traceback inside its string
    parsed = json.loads(inside)
    assert (parsed["conn"], parsed["user"]) == ("abc123", 7)
    assert "RuntimeError: boom\nsecond line" in parsed["exc"]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_every_line_of_a_json_server_is_json_and_socket_lines_name_conn_and_user(amake_user, amake_room):
    from hub.redis import get_async_redis, key

    alice = await amake_user("alice", password=PASSWORD)
    await amake_room("lounge")
    with DaphneServer(LOG_FORMAT="json") as server:
        browser = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
        ws, hello = await ws_connect(server, browser)
        assert (await ws_request(ws, "room:lounge", "join", ref="j"))["ok"]
        assert (await ws_request(ws, "room:lounge", "send", {"body": SECRET_BODY}, ref="s"))["ok"]
        # Redis forgets the socket: the next heartbeat finds out, logs a warning and closes 4500.
        await get_async_redis().delete(key("sockets", alice.pk))  # as hub.connections names it
        await ws.send(json.dumps({"topic": "hub", "event": "heartbeat", "payload": {}, "ref": "h"}))
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(10):
                async for _ in ws:
                    pass
        assert ws.close_code == 4500
        server.stop()
        output = server.output()
    lines = [line for line in output.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, daphne's access lines too
    assert any(r["logger"] == "daphne.access" and "WSCONNECT /ws/" in r["message"] for r in records)
    mine = [r for r in records if r.get("conn") == hello["conn"]]
    assert {r["message"] for r in mine} >= {"socket connected", "socket disconnected"}
    assert any("unknown to Redis" in r["message"] for r in mine)
    assert all(r["user"] == alice.pk for r in mine)
    assert SECRET_BODY not in output

"""socket.js in Chromium: reconnects by itself after a server restart; a logout elsewhere sends the tab to login;
a server that closes right after `hello` gets ever longer waits, not a reconnect every half second."""

import asyncio
import json
import threading
import time

import pytest
from playwright.sync_api import expect

from tests.browser import signup
from hub.testing.servers import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reconnects_after_restart_and_leaves_on_logout(new_page):
    server = DaphneServer().start()
    try:
        page = signup(new_page(), server.url, "rita")
        server.stop()
        expect(page.locator("#hub-status")).to_have_text("Reconnecting…")
        restarted = DaphneServer()
        restarted.port = server.port
        server = restarted.start()
        expect(page.locator("#hub-status")).to_have_text("Connected", timeout=40_000)
        # Same session, second tab: logging out there closes the first tab's socket with 4401.
        other = page.context.new_page()
        other.goto(f"{server.url}/")
        other.click("text=Log out")
        page.wait_for_url(lambda url: "/accounts/login/" in url, timeout=10_000)
    finally:
        server.stop()


class ClosingRightAfterHello:
    """A bare WebSocket server on 127.0.0.1 that says `hello` and closes at once, noting when each client came."""

    def __init__(self):
        self.arrivals = []
        self.enough = threading.Event()
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.thread = threading.Thread(target=self.run, args=(started,), daemon=True)
        self.thread.start()
        started.wait(10)

    def run(self, started):
        import websockets

        async def handler(ws):
            self.arrivals.append(time.monotonic())
            if len(self.arrivals) >= 5:
                self.enough.set()
            hello = {"topic": "hub", "event": "hello", "payload": {
                "protocol": 1, "conn": "x", "user": {"id": 1, "username": "u", "display_name": "u"},
                "heartbeat": 25, "server_time": "2026-01-01T00:00:00Z"}}
            await ws.send(json.dumps(hello))
            await ws.close(4000, "not now")

        async def serve():
            self.server = await websockets.serve(handler, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()
            await self.server.wait_closed()

        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(serve())

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.thread.join(10)


def test_the_backoff_grows_while_connections_close_right_after_hello(browser, live_server_url):
    fake = ClosingRightAfterHello()
    context = browser.new_context(bypass_csp=True)  # the page's CSP allows only its own origin's socket
    try:
        page = context.new_page()
        page.goto(f"{live_server_url}/accounts/login/")
        # Full jitter made deterministic: every wait is its upper bound, 500 ms x 2^attempt.
        page.evaluate("""async (url) => {
            Math.random = () => 0.999;
            const { HubSocket } = await import("/static/hub/socket.js");
            window.testSocket = new HubSocket({ url });
            window.testSocket.connect();
        }""", f"ws://127.0.0.1:{fake.port}/")
        assert fake.enough.wait(20), f"only {len(fake.arrivals)} connections"
        gaps = [b - a for a, b in zip(fake.arrivals, fake.arrivals[1:])]
        # 0.5, 1, 2, 4 s (each plus a connection's setup): doubling, never reset by the `hello`s.
        assert gaps[0] >= 0.45 and all(later > 1.6 * earlier for earlier, later in zip(gaps, gaps[1:])), gaps
        page.evaluate("window.testSocket.stopped = true")
    finally:
        context.close()
        fake.stop()



def test_a_moved_resync_marker_makes_every_joined_channel_rejoin(new_page):
    """The relay bumped the marker (docs/protocol.md "Delivery"): the page re-joins its channels, resuming by position."""
    from hub.redis import get_sync_redis, key

    with DaphneServer(HUB_OUTBOX_AFTER=1) as server:  # the relay loop re-reads the marker every 0.5 s
        page = new_page()
        joins = []  # (topic, payload) of every join the page sends
        page.on("websocket", lambda ws: ws.on("framesent", lambda text: joins.extend(
            [(f["topic"], f["payload"]) for f in [json.loads(text)] if f.get("event") == "join"])))
        signup(page, server.url, "rita")
        page.wait_for_function("() => [...window.hub.subscriptions.values()].every((c) => c.joined)")
        from django.contrib.auth import get_user_model

        from notifications.services import notify

        notify(get_user_model().objects.get(username="rita"), "one to resume after")
        expect(page.locator("#bell-count")).to_have_text("1")
        first = page.evaluate("() => window.hub.sendHeartbeat()")["resync"]
        before = len(joins)
        page.evaluate("() => window.hub.sendHeartbeat()")
        assert page.evaluate("() => window.hub.resyncTimer") is None  # the same marker: nothing to do
        get_sync_redis().incr(key("outbox", "resync"))
        deadline = time.monotonic() + 5
        while page.evaluate("() => window.hub.sendHeartbeat()")["resync"] == first:  # the server re-reads it
            assert time.monotonic() < deadline, "the server never showed the moved marker"
            page.wait_for_timeout(200)
        page.wait_for_function("""() => [...window.hub.subscriptions.values()].every((c) => c.joined)
            && window.hub.resyncTimer === null""", timeout=10_000)
        page.wait_for_timeout(300)
        rejoined = dict(joins[before:])
        assert set(rejoined) == {"presence", "notifications", "announcements", "chat"}
        assert rejoined["notifications"] == {"since_seq": 1}  # resumed by position

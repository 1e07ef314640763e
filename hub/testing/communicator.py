"""A WebsocketCommunicator that speaks Hub's envelope: requests matched by ref, pushes buffered.

Every frame it receives goes through hub.testing.check_frame (the checks a suite registered:
Hub's own checks each against its protocol table, tests/protocol_schema.py).
"""

import asyncio
import itertools
import json

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from hub.testing.checks import check_frame

_refs = itertools.count(1)

# The site in-process sockets are opened on: a browser on http://localhost sends this Host and
# Origin (WebsocketCommunicator's scope has no Host of its own, and no scheme: `ws`).
SITE_HOST = b"localhost"
SITE_ORIGIN = b"http://localhost"


def handshake_headers(cookie=None, *, origin=SITE_ORIGIN, host=SITE_HOST):
    """Handshake headers of a page on the test site: `Host`, `Origin` (None leaves one out), the cookie."""
    headers = [(name, value) for name, value in ((b"host", host), (b"origin", origin)) if value is not None]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode() if isinstance(cookie, str) else cookie))
    return headers


def session_cookie_for(user):
    """Log `user` in through Django's test client and return a `Cookie` header value."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def close_async_clients():
    """Close the hub's per-loop Redis client of this test's loop (avoids 'loop is closed' noise)."""
    from hub import redis as hub_redis

    for client in list(hub_redis._async_clients.values()):
        try:
            await client.aclose()
        except Exception:
            pass
    hub_redis._async_clients.clear()


class HubCommunicator(WebsocketCommunicator):
    """Adds `request()` (reply by ref) and `expect()` (next push of a topic/event) to the communicator."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.buffer = []  # frames read while waiting for something else
        self.sent_events = {}  # ref -> event, so each reply is checked against its request's shape

    async def receive_json_from(self, timeout=1):
        frame = await super().receive_json_from(timeout)
        check_frame(frame, self.sent_events)
        return frame

    async def send_to(self, text_data=None, bytes_data=None):
        if text_data is not None:
            try:
                sent = json.loads(text_data)
                if isinstance(sent, dict) and isinstance(sent.get("ref"), str):
                    self.sent_events[sent["ref"]] = sent.get("event")
            except ValueError:
                pass
        await super().send_to(text_data=text_data, bytes_data=bytes_data)

    async def disconnect(self, code=1000, timeout=5):
        """Close from the client side; give the consumer's cleanup (presence leaves) time to finish."""
        await super().disconnect(code=code, timeout=timeout)

    async def send_frame(self, topic, event, payload=None, ref=None):
        frame = {"topic": topic, "event": event}
        if payload is not None:
            frame["payload"] = payload
        if ref is not None:
            frame["ref"] = ref
        await self.send_to(text_data=json.dumps(frame))

    async def _next(self, timeout):
        return await self.receive_json_from(timeout=timeout)

    async def wait_for(self, match, timeout=5):
        """Return the first frame (buffered or new) for which match(frame) is true."""
        for i, frame in enumerate(self.buffer):
            if match(frame):
                return self.buffer.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame within {timeout} s; buffered: {self.buffer}")
            frame = await self._next(remaining)
            if match(frame):
                return frame
            self.buffer.append(frame)

    async def request(self, topic, event, payload=None, timeout=5):
        """Send with a fresh ref and return the reply's payload ({"ok": ..., ...})."""
        ref = f"r{next(_refs)}"
        await self.send_frame(topic, event, payload if payload is not None else {}, ref=ref)
        reply = await self.wait_for(lambda f: f.get("event") == "reply" and f.get("ref") == ref, timeout)
        assert reply["topic"] == topic
        return reply["payload"]

    async def ok(self, topic, event, payload=None, timeout=5):
        """request() that must succeed; returns the reply data."""
        reply = await self.request(topic, event, payload, timeout)
        assert reply["ok"], reply
        return reply["data"]

    async def error(self, topic, event, payload=None, timeout=5):
        """request() that must fail; returns the error object."""
        reply = await self.request(topic, event, payload, timeout)
        assert not reply["ok"], reply
        return reply["error"]

    async def expect(self, topic, event, timeout=5, where=lambda payload: True):
        frame = await self.wait_for(
            lambda f: f.get("topic") == topic and f.get("event") == event and where(f.get("payload")), timeout
        )
        return frame["payload"]

    async def nothing(self, timeout=0.3, topic=None, event=None):
        """True when no frame (of `topic`, and `event`, if given) arrives within `timeout`.

        Polls the output queue: asgiref cancels the application when a receive times out,
        which must not happen to a socket the test goes on using.
        """
        def matches(frame):
            return (topic is None or frame.get("topic") == topic) and (event is None or frame.get("event") == event)

        if any(matches(frame) for frame in self.buffer):
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            if await self.receive_nothing(timeout=min(0.05, remaining)):
                continue
            frame = json.loads((await self.receive_output(timeout=1))["text"])
            check_frame(frame, self.sent_events)
            self.buffer.append(frame)
            if matches(frame):
                return False
        return True

    async def expect_close(self, timeout=5):
        """Read until the server closes; return the close code."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            output = await self.receive_output(timeout=max(0.01, deadline - loop.time()))
            if output["type"] == "websocket.close":
                return output.get("code", 1000)
            frame = json.loads(output["text"])
            check_frame(frame, self.sent_events)
            self.buffer.append(frame)

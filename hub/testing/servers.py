"""Real daphne processes for end-to-end tests, and an allauth login over real HTTP.

Servers run as subprocesses (never forked from the test process; see TESTING.md) on
free loopback ports, sharing the test database and the test Redis.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

from hub.testing.checks import check_frame

ROOT = Path(settings.BASE_DIR)  # the project: manage.py, var/


# Every daphne log of this run: conftest removes them when the whole run passed.
LOGS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url():
    """DATABASE_URL of the database this test session uses (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = urllib.parse.quote(db.get("USER") or "")
    password = urllib.parse.quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


class DaphneServer:
    """`with DaphneServer(**env) as server:` -> server.url, server.ws_url; stop() or kill().

    The process runs this test run's settings module and ASGI_APPLICATION, with `env` added to
    its environment (strings); it finds the test database through DATABASE_URL (Hub's settings
    read it) and needs the project's URLs to answer /healthz (hub.urls does).
    args: extra daphne options (e.g. ["--proxy-headers"]).
    """

    def __init__(self, *, args=(), **env):
        self.port = free_port()
        self.args = list(args)
        self.application = ":".join(settings.ASGI_APPLICATION.rsplit(".", 1))  # "hub.asgi:application"
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE, "DATABASE_URL": database_url(),
                    # Stopping at once (as tests did before draining existed); the drain tests set both.
                    "HUB_DRAIN_SECONDS": "0", "HUB_PRESENCE_GRACE": "0",
                    **{k: str(v) for k, v in env.items()}}
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws/"

    def start(self, timeout_s=30):
        self.log = open(ROOT / "var" / f"daphne-{self.port}.log", "w+")
        LOGS.append(Path(self.log.name))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), *self.args,
             self.application],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not answer within {timeout_s} s:\n{self.output()}")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self):
        """SIGKILL: the process vanishes without closing its sockets or cleaning Redis."""
        self.process.kill()
        self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.log.close()


def run_manage(server, *args, timeout_s=60):
    """Run `manage.py *args` as another process would beside `server`: its database, its Redis, its settings."""
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=server.env, capture_output=True,
                          text=True, timeout=timeout_s)


class Browserless:
    """A cookie-keeping HTTP client that logs in through the allauth form, as a person would."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        with self.opener.open(self.base_url + path, timeout=10) as response:
            return response.status, response.read().decode()

    def post_form(self, path, fields):
        status, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(self.base_url + path, data=data, headers={"Referer": self.base_url + path})
        with self.opener.open(request, timeout=10) as response:
            return response.status, response.geturl()

    def login(self, username, password):
        self.post_form("/accounts/login/", {"login": username, "password": password})
        if not self.cookie("sessionid"):
            raise AssertionError(f"login of {username} failed")
        return self

    def logout(self):
        return self.post_form("/accounts/logout/", {})

    def cookie(self, name):
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None

    def ws_headers(self):
        return {"Origin": self.base_url, "Cookie": f"sessionid={self.cookie('sessionid')}"}


async def ws_connect(server, client, **kwargs):
    """Open a real socket as `client` and return (websocket, hello payload)."""
    import websockets

    ws = await websockets.connect(server.ws_url, additional_headers=client.ws_headers(), open_timeout=10, **kwargs)
    hello = json.loads(await ws.recv())
    assert hello["event"] == "hello", hello
    check_frame(hello, {})
    return ws, hello["payload"]


async def ws_request(ws, topic, event, payload=None, ref="1", timeout=5, buffer=None):
    """Send one frame and return its reply payload; other frames go to `buffer` if given."""
    import asyncio

    await ws.send(json.dumps({"topic": topic, "event": event, "payload": payload or {}, "ref": ref}))
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            check_frame(frame, {ref: event})
            if frame.get("event") == "reply" and frame.get("ref") == ref:
                return frame["payload"]
            if buffer is not None:
                buffer.append(frame)


async def ws_expect(ws, topic, event, timeout=5, where=lambda payload: True, buffer=None):
    """Read frames until a push of `topic`/`event` matching `where` arrives; return its payload."""
    import asyncio

    if buffer:
        for i, frame in enumerate(buffer):
            if frame.get("topic") == topic and frame.get("event") == event and where(frame["payload"]):
                return buffer.pop(i)["payload"]
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            check_frame(frame, {})
            if frame.get("topic") == topic and frame.get("event") == event and where(frame["payload"]):
                return frame["payload"]
            if buffer is not None:
                buffer.append(frame)

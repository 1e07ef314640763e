"""What every bench scenario shares: a private stack (embedded Redis, fresh SQLite, daphne),
users with sessions made straight in the database, and real WebSocket clients.

Everything targets 127.0.0.1 only; every loop in a scenario is bounded in count and time.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_common_arguments(parser):
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""),
                        help="use this Redis instead of starting the embedded one")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")
    parser.add_argument("--layer-shards", type=int, default=0, choices=range(0, 5), metavar="K",
                        help="Hub's channel layer on K more embedded Redis servers (HUB_LAYER_REDIS_URLS; 0: on the "
                             "main one); the report then gives each Redis server's CPU")


# Traced (--tracemalloc) on a busy machine, daphne's imports alone took over 30 s.
START_TIMEOUT_SECS = 120


class Stack:
    """A private server stack: `with Stack(app=..., settings=...) as stack:`.

    Starts the embedded Redis (unless redis_url), migrates a fresh SQLite database
    under var/bench/, then one daphne process on a free port.
    """

    def __init__(self, *, app="hub.asgi:application", settings="hub.settings", redis_url="", env=None,
                 layer_shards=0):
        self.app = app
        self.settings = settings
        self.redis_url = redis_url
        self.layer_shards = layer_shards
        self.shards = []  # the embedded Redis servers of the layer's shards
        self.extra_env = env or {}
        self.port = free_port()
        self.embedded = None
        self.process = None
        self.peers = []  # more daphne processes of this stack (add_process)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def pid(self):
        return self.process.pid

    def start(self):
        raise_fd_limit()
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        db_path = BENCH_DIR / f"bench-{os.getpid()}.sqlite3"
        if getattr(setup_django, "done", False):
            from django.db import connections

            connections.close_all()  # the file is replaced below; reconnect to the new one
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        if not self.redis_url:
            from hub.embedded_redis import EmbeddedRedis, runtime_dir

            self.embedded = EmbeddedRedis(runtime_dir(ROOT, f"bench-redis-{os.getpid()}")).start()
            self.redis_url = self.embedded.url
        for n in range(self.layer_shards):
            from hub.embedded_redis import EmbeddedRedis, runtime_dir

            self.shards.append(EmbeddedRedis(runtime_dir(ROOT, f"bench-shard{n}-{os.getpid()}")).start())
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings,
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret-key"),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_COOKIES": "0",  # plain http on 127.0.0.1
            "EMAIL_BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
            "DATABASE_URL": f"sqlite:///{db_path}",
            "REDIS_URL": self.redis_url,
            "HUB_MAX_SOCKETS_PER_USER": "100000",
            "HUB_FRAME_RATE": "1000000/1s",
            "HUB_USER_BUDGET": "1000000/1s",  # the load comes from few accounts
            "HUB_DRAIN_SECONDS": "0",  # each stack stops at once between runs
            # Bench clients send no heartbeats while they wait for thousands of others to join.
            "HUB_PRESENCE_TTL": "600",
            **({"HUB_LAYER_REDIS_URLS": ",".join(shard.url for shard in self.shards)} if self.shards else {}),
            **self.extra_env,
        }
        uses_hub = self.settings == "hub.settings"
        if uses_hub:  # this process writes users and sessions into the stack's database
            os.environ.update({k: self.env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY",
                                                         "DATABASE_URL", "REDIS_URL", "EMAIL_BACKEND",
                                                         "HUB_LAYER_REDIS_URLS") if k in self.env})
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=self.env, check=True)
        self.process, self.log = self._daphne(self.port)
        if uses_hub:
            setup_django()
        return self

    def _daphne(self, port):
        """Start one daphne process on `port` with this stack's environment; wait until it answers."""
        log = open(BENCH_DIR / f"daphne-{port}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), self.app],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited; see {log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return process, log
            except OSError:
                time.sleep(0.1)
        process.kill()
        raise RuntimeError(f"daphne did not start in {START_TIMEOUT_SECS} s; see {log.name}")

    def add_process(self):
        """One more daphne process of this stack (same database, same Redis); returns a Peer to connect to."""
        port = free_port()
        process, log = self._daphne(port)
        peer = Peer(self, port, process, log)
        self.peers.append(peer)
        return peer

    def rss_kb(self):
        """Resident memory of the server process, in KiB (Linux /proc)."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        """CPU time (user + system) the server process has used so far, in seconds (Linux /proc)."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def redis_cpu_seconds(self):
        """{"main": s, "shard0": s, ...}: CPU time (user + system) each Redis server of the stack has used so far."""
        import redis

        found = {}
        for name, url in [("main", self.redis_url), *((f"shard{n}", s.url) for n, s in enumerate(self.shards))]:
            client = redis.Redis.from_url(url)
            try:
                info = client.info("cpu")
            finally:
                client.close()
            found[name] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return found

    def stop(self):
        for peer in self.peers:
            peer.stop()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for embedded in [self.embedded, *self.shards]:
            if embedded:
                embedded.stop()
                shutil.rmtree(embedded.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Peer:
    """Another daphne process of a Stack: the same interface the clients use (url, ws_url, rss_kb)."""

    def __init__(self, stack, port, process, log):
        self.stack, self.port, self.process, self.log = stack, port, process, log

    url = Stack.url
    ws_url = Stack.ws_url
    pid = Stack.pid
    rss_kb = Stack.rss_kb
    cpu_seconds = Stack.cpu_seconds

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def raise_fd_limit():
    """Thousands of sockets need thousands of descriptors, here and in the daphne child."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def setup_django():
    import django

    if not getattr(setup_django, "done", False):
        django.setup()
        setup_django.done = True


def make_sessions(n, prefix="bench"):
    """Create n users and a logged-in session each; return [(user_id, username, cookie_header)]."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com", password="!") for i in range(n)]
    )
    users = list(User.objects.filter(username__startswith=prefix).order_by("id"))[:n]
    result = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        result.append((user.pk, user.username, f"{settings.SESSION_COOKIE_NAME}={store.session_key}"))
    return result


async def open_socket(stack, cookie, **kwargs):
    """A real WebSocket logged in by `cookie`; returns (ws, hello payload)."""
    import websockets

    for attempt in range(5):
        try:
            # No client keepalive and no flow control: a bench socket may sit unread while
            # others are joining (room presence diffs pile up); with websockets' defaults
            # its 16-frame queue fills, it stops reading, misses the pong and closes 1011.
            options = {"open_timeout": 30, "max_size": 2**22, "ping_interval": None, "max_queue": None, **kwargs}
            ws = await websockets.connect(stack.ws_url, additional_headers={"Origin": stack.url, "Cookie": cookie},
                                          **options)
            break
        except (websockets.exceptions.InvalidMessage, OSError):
            # daphne drops handshakes it cannot finish in 5 s when thousands arrive at once.
            if attempt == 4:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    hello = json.loads(await ws.recv())
    return ws, hello["payload"]


async def open_sockets(stack, cookies, concurrency=25):
    """Open one socket per cookie, `concurrency` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(cookie):
        async with gate:
            return await open_socket(stack, cookie)

    return await asyncio.gather(*(one(cookie) for cookie in cookies))


async def drain(ws):
    """Read and drop everything a socket receives until it closes."""
    try:
        async for _ in ws:
            pass
    except Exception:
        pass


_refs = iter(range(1, 10**12))


async def request(ws, topic, event, payload=None, timeout=30):
    """Send one frame with a fresh ref; return the reply payload (other frames are discarded)."""
    ref = str(next(_refs))
    await ws.send(json.dumps({"topic": topic, "event": event, "payload": payload or {}, "ref": ref}))
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("event") == "reply" and frame.get("ref") == ref:
                return frame["payload"]


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def room_with_long_messages(author_id, count=100, slug="bench"):
    """A public room holding `count` messages of 4,000 characters: each `history` page is ~400 KB."""
    from django.db import transaction

    from chat.models import Message, Room

    room = Room.objects.create(slug=slug, name=slug.title(), kind="public")
    with transaction.atomic():  # the positions are taken in the transaction that stores the rows
        Message.objects.bulk_create([Message(room=room, author_id=author_id, body=f"{i:04d}" + "x" * 3996, seq=seq)
                                     for i, seq in enumerate(room.take_seqs(count))])
    return room

"""Pushes survive faults between the commit and the PUBLISH (issue 11 §3), over real processes:
a writer killed right after its commit, and Redis away while writes go on."""

import asyncio
import json
import os

import pytest
import websockets

from hub.embedded_redis import EmbeddedRedis, runtime_dir
from hub.testing.servers import ROOT, Browserless, DaphneServer, run_manage, ws_connect, ws_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-Horse-battery-9"
OUTAGE_SECS = 30  # as the issue asks: long enough for every socket to notice and every retry to give up


class ResumingClient:
    """A raw-socket client as a careful app would write it: it keeps every stream position it has and,
    after any close, reconnects and re-joins each stream with `since_seq`, dropping repeats."""

    STREAMS = {"notifications": ("items", "new", "notification"), "room": ("messages", "message", "message")}

    def __init__(self, server, browser, topics):
        self.server, self.browser, self.topics = server, browser, topics
        self.seen = {topic: {} for topic in topics}  # topic -> {seq: item}
        self.repeats = 0
        self.connections = 0

    def _kind(self, topic):
        return "room" if topic.startswith("room:") else topic

    def _keep(self, topic, item):
        if item["seq"] in self.seen[topic]:
            self.repeats += 1
        self.seen[topic][item["seq"]] = item

    async def _session(self, stop):
        ws, _ = await ws_connect(self.server, self.browser)
        self.connections += 1
        try:
            for n, topic in enumerate(self.topics):
                have = self.seen[topic]
                reply = await ws_request(ws, topic, "join", {"since_seq": max(have, default=0)}, ref=f"j{n}")
                assert reply["ok"], reply
                for item in reply["data"][self.STREAMS[self._kind(topic)][0]]:
                    self._keep(topic, item)
            while not stop():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    await ws.send(json.dumps({"topic": "hub", "event": "heartbeat", "payload": {}}))
                    continue
                _, event, field = self.STREAMS.get(self._kind(frame.get("topic", "")), (None, None, None))
                if event and frame.get("event") == event:
                    self._keep(frame["topic"], frame["payload"][field])
        finally:
            await ws.close()

    async def run(self, stop, timeout_s):
        """Stay connected (reconnecting after every close or refused handshake) until `stop()` or the timeout."""
        async with asyncio.timeout(timeout_s):
            while not stop():
                try:
                    await self._session(stop)
                except (websockets.ConnectionClosed, OSError, websockets.InvalidStatus, AssertionError, KeyError):
                    await asyncio.sleep(0.3)


def write_message_and_notification(server, n, recipients):
    """From another process, as a worker would: alice says `m<n>` in the lounge, `recipients` get `n<n>`."""
    return run_manage(server, "shell", "-c", (
        "from django.contrib.auth import get_user_model\n"
        "from chat.models import Room\n"
        "from chat.services.messages import message_send\n"
        "from notifications.services import notify\n"
        "users = get_user_model().objects\n"
        f"message_send(room=Room.objects.get(slug='lounge'), author=users.get(username='alice'), body='m{n}')\n"
        f"notify(users.filter(username__in={list(recipients)!r}), 'n{n}')\n"))


def notification_seqs(username):
    from notifications.models import Notification

    return set(Notification.objects.filter(recipient__username=username).values_list("seq", flat=True))


def message_seqs(slug):
    from chat.models import Message

    return set(Message.objects.filter(room__slug=slug).values_list("seq", flat=True))


async def test_a_notify_killed_right_after_its_commit_is_pushed_by_the_relay(amake_user):
    from asgiref.sync import sync_to_async

    await amake_user("bob", password=PASSWORD)
    with DaphneServer(HUB_OUTBOX_AFTER=1) as server:
        bob = await asyncio.to_thread(Browserless(server.url).login, "bob", PASSWORD)
        ws, _ = await ws_connect(server, bob)
        assert (await ws_request(ws, "notifications", "join"))["ok"]
        before = (await ws_request(ws, "hub", "heartbeat", ref="h1"))["data"].get("resync", 0)
        # The process dies between the commit and the PUBLISH, as an OOM-killed worker would.
        died = await asyncio.to_thread(run_manage, server, "shell", "-c", (
            "import os, hub.push\n"
            "hub.push.publish_pairs = lambda pairs, **kwargs: os._exit(9)\n"
            "from django.contrib.auth import get_user_model\n"
            "from notifications.services import notify\n"
            "notify(get_user_model().objects.get(username='bob'), 'sent by a process that died')\n"))
        assert died.returncode == 9, died.stderr
        assert await sync_to_async(notification_seqs)("bob") == {1}  # committed
        async with asyncio.timeout(10):
            while True:
                frame = json.loads(await ws.recv())
                if frame["event"] == "new":
                    break
        assert frame["payload"]["notification"]["verb"] == "sent by a process that died"
        assert frame["payload"]["unread"] == 1
        async with asyncio.timeout(5):  # the relay bumps the marker once its pass is over, every server reads it
            n = 2
            while (await ws_request(ws, "hub", "heartbeat", ref=f"h{n}"))["data"]["resync"] == before:
                n += 1
                await asyncio.sleep(0.1)
        await ws.close()


async def test_redis_away_for_30_s_writes_succeed_and_every_socket_ends_with_every_push(amake_user, amake_room):
    from asgiref.sync import sync_to_async

    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_room("lounge")
    redis_server = EmbeddedRedis(runtime_dir(ROOT, f"outage-redis-{os.getpid()}")).start()
    try:
        with DaphneServer(REDIS_URL=redis_server.url, HUB_OUTBOX_AFTER=1) as server:
            bob_browser = await asyncio.to_thread(Browserless(server.url).login, "bob", PASSWORD)
            client = ResumingClient(server, bob_browser, ["notifications", "room:lounge"])
            done = asyncio.Event()
            running = asyncio.ensure_future(client.run(done.is_set, timeout_s=OUTAGE_SECS + 60))

            def write(n):
                return write_message_and_notification(server, n, ["bob"])

            assert (await asyncio.to_thread(write, 0)).returncode == 0
            await wait_until(lambda: len(client.seen["room:lounge"]) == 1 and len(client.seen["notifications"]) == 1)
            redis_server.stop()
            outage_ends = asyncio.get_running_loop().time() + OUTAGE_SECS
            n = 1
            while asyncio.get_running_loop().time() < outage_ends:
                done_writing = await asyncio.to_thread(write, n)
                assert done_writing.returncode == 0, done_writing.stderr  # writes never fail for Redis
                status, page = await asyncio.to_thread(bob_browser.get, "/chat/lounge/")
                assert status == 200 and "Lounge" in page  # page views work
                n += 1
                await asyncio.sleep(2)
            redis_server.start()
            expected_messages = await sync_to_async(message_seqs)("lounge")
            expected_notifications = await sync_to_async(notification_seqs)("bob")
            assert len(expected_messages) == len(expected_notifications) == n
            await wait_until(lambda: set(client.seen["room:lounge"]) == expected_messages
                             and set(client.seen["notifications"]) == expected_notifications, timeout_s=30)
            done.set()
            await running
            assert [m["body"] for _, m in sorted(client.seen["room:lounge"].items())] == [f"m{i}" for i in range(n)]
            assert client.connections >= 2  # the outage was seen: the client had to resume
    finally:
        redis_server.stop()


async def wait_until(condition, timeout_s=10):
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.05)

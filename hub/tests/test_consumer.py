"""The socket itself over the real Redis channel layer: hello, heartbeat, errors, closes, registry."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator

from hub import protocol, topics
from hub.errors import Forbidden
from hub.push import asend_to_user, topic_group
from hub.testing.communicator import close_async_clients, handshake_headers

pytestmark = pytest.mark.django_db(transaction=True)


class EchoTopic(topics.Topic):
    """A throwaway topic: join subscribes to its group; `echo` replies; `boom` is a bug."""

    events = ("echo", "boom", "deny")

    async def join(self, payload):
        await self.subscribe()
        return {"joined": self.topic, "suffix": self.suffix}

    async def on_echo(self, payload):
        return {"echo": payload}

    async def on_boom(self, payload):
        raise RuntimeError("a bug")

    async def on_deny(self, payload):
        raise Forbidden()


@pytest.fixture(autouse=True)
def echo_topic():
    topics.register("echo:*", EchoTopic)
    yield
    topics.unregister("echo:*")


async def test_hello_is_the_first_frame(amake_user, connect):
    alice = await amake_user("alice")
    comm = await connect(alice)
    hello = comm.hello
    assert hello["topic"] == "hub"
    payload = hello["payload"]
    assert payload["protocol"] == 1
    assert payload["user"] == {"id": alice.pk, "username": "alice", "display_name": "alice"}
    assert payload["heartbeat"] == 25
    assert payload["server_time"].endswith("Z")
    assert len(payload["conn"]) >= 16


async def test_heartbeat_replies_with_server_time(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    data = await comm.ok("hub", "heartbeat", {"status": "away"})
    assert data["server_time"].endswith("Z")
    assert (await comm.ok("hub", "heartbeat"))["server_time"]
    error = await comm.error("hub", "heartbeat", {"status": "asleep"})
    assert error["code"] == "bad_request"


@pytest.mark.parametrize("text", [
    "not json", "[1,2]", "42", '"str"', "null", '{"topic":"\\ud800","event":"x"}',
    '{"topic":"hub","event":"heartbeat","payload":{"s":"a\\u0000"}}',  # PostgreSQL cannot store NUL
    '{"topic":"hub","event":"heartbeat","payload":{"n":NaN}}', '{"topic":"hub","event":"heartbeat","x":-Infinity}',
])
async def test_frames_that_are_not_storable_json_objects_get_bad_request_on_hub(amake_user, connect, text):
    comm = await connect(await amake_user("alice"))
    await comm.send_to(text_data=text)
    reply = await comm.receive_json_from()
    assert reply == {"topic": "hub", "event": "reply", "ref": None, "payload": {
        "ok": False, "error": {"code": "bad_request", "message": reply["payload"]["error"]["message"]}}}


@pytest.mark.parametrize("frame", [
    {"event": "heartbeat", "ref": "a"},
    {"topic": 5, "event": "heartbeat", "ref": "a"},
    {"topic": "hub", "ref": "a"},
    {"topic": "hub", "event": ["x"], "ref": "a"},
    {"topic": "hub", "event": "heartbeat", "payload": [], "ref": "a"},
    {"topic": "hub", "event": "heartbeat", "payload": None, "ref": "a"},
])
async def test_missing_or_ill_typed_fields_are_bad_request(amake_user, connect, frame):
    comm = await connect(await amake_user("alice"))
    await comm.send_to(text_data=json.dumps(frame))
    reply = await comm.receive_json_from()
    assert reply["event"] == "reply"
    assert reply["ref"] == "a"
    assert reply["payload"]["error"]["code"] == "bad_request"


async def test_ref_must_be_a_string_of_at_most_64_characters(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    assert (await comm.ok("hub", "heartbeat"))  # sanity
    await comm.send_frame("hub", "heartbeat", {}, ref="x" * 64)
    assert (await comm.receive_json_from())["payload"]["ok"] is True
    await comm.send_frame("hub", "heartbeat", {}, ref="x" * 65)
    reply = await comm.receive_json_from()
    assert reply["ref"] is None and reply["payload"]["error"]["code"] == "bad_request"
    await comm.send_to(text_data=json.dumps({"topic": "hub", "event": "heartbeat", "ref": 7}))
    reply = await comm.receive_json_from()
    assert reply["ref"] is None and reply["payload"]["error"]["code"] == "bad_request"


async def test_frame_without_ref_gets_no_reply_on_success_and_null_ref_on_failure(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    await comm.send_frame("hub", "heartbeat", {})
    assert await comm.nothing()
    await comm.send_frame("nope", "join", {})
    reply = await comm.receive_json_from()
    assert reply["topic"] == "nope" and reply["ref"] is None
    assert reply["payload"]["error"]["code"] == "unknown_topic"


async def test_error_codes_of_routing(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    assert (await comm.error("nope", "join"))["code"] == "unknown_topic"
    assert (await comm.error("hub", "join"))["code"] == "unknown_event"
    assert (await comm.error("hub", "dance"))["code"] == "unknown_event"
    assert (await comm.error("echo:a", "echo"))["code"] == "not_joined"
    assert (await comm.error("echo:a", "dance"))["code"] == "unknown_event"
    assert await comm.ok("echo:a", "join") == {"joined": "echo:a", "suffix": "a"}
    assert (await comm.error("echo:a", "dance"))["code"] == "unknown_event"
    assert (await comm.error("echo:a", "deny"))["code"] == "forbidden"
    assert (await comm.error("echo:a", "boom"))["code"] == "internal"
    assert await comm.ok("echo:a", "echo", {"x": [1, "é"]}) == {"echo": {"x": [1, "é"]}}


async def test_binary_and_oversized_frames_get_errors(amake_user, connect, settings):
    settings.HUB_MAX_FRAME = 1000
    comm = await connect(await amake_user("alice"))
    await comm.send_to(bytes_data=b"\x00\x01")
    assert (await comm.receive_json_from())["payload"]["error"]["code"] == "bad_request"
    await comm.send_to(text_data=json.dumps({"topic": "hub", "event": "heartbeat", "payload": {"x": "y" * 2000}}))
    assert (await comm.receive_json_from())["payload"]["error"]["code"] == "too_large"


async def test_rejoin_answers_fresh_state_and_leave_stops_pushes(amake_user, connect):
    alice = await amake_user("alice")
    comm = await connect(alice)
    await comm.ok("echo:a", "join")
    assert await comm.ok("echo:a", "join") == {"joined": "echo:a", "suffix": "a"}
    from channels.layers import get_channel_layer
    from hub.push import push_message

    await get_channel_layer().group_send(topic_group("echo:a"), push_message("echo:a", "ping", {"n": 1}))
    assert await comm.expect("echo:a", "ping") == {"n": 1}
    assert await comm.ok("echo:a", "leave") == {}
    await get_channel_layer().group_send(topic_group("echo:a"), push_message("echo:a", "ping", {"n": 2}))
    assert await comm.nothing(0.5)
    assert (await comm.error("echo:a", "echo"))["code"] == "not_joined"


async def test_send_to_user_reaches_every_socket_of_that_user_that_joined(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    tab1, tab2, other_topic, bobs = await connect(alice), await connect(alice), await connect(alice), await connect(bob)
    for comm in (tab1, tab2, bobs):
        await comm.ok("echo:x", "join")
    await other_topic.ok("echo:y", "join")
    await asend_to_user(alice, "echo:x", "custom", {"hello": "world"})
    assert await tab1.expect("echo:x", "custom") == {"hello": "world"}
    assert await tab2.expect("echo:x", "custom") == {"hello": "world"}
    assert await other_topic.nothing(0.5)
    assert await bobs.nothing(0.2)


async def test_send_to_user_from_async_code_schedules_the_push_and_returns_its_task(amake_user, connect):
    from hub.push import send_to_user

    alice = await amake_user("alice")
    tab = await connect(alice)
    await tab.ok("echo:x", "join")
    task = send_to_user(alice, "echo:x", "custom", {"n": 1})
    assert isinstance(task, asyncio.Task)
    await task
    assert await tab.expect("echo:x", "custom") == {"n": 1}


async def test_send_to_user_from_sync_code_sends_after_the_commit_and_never_for_a_rollback(amake_user, connect):
    from channels.db import database_sync_to_async
    from django.db import transaction

    from hub.push import send_to_user

    alice = await amake_user("alice")
    tab = await connect(alice)
    await tab.ok("echo:x", "join")

    def in_transaction(n, *, roll_back):
        with transaction.atomic():
            assert send_to_user(alice.pk, "echo:x", "custom", {"n": n}) is None  # a user id works as well
            if roll_back:
                transaction.set_rollback(True)

    await database_sync_to_async(in_transaction)(1, roll_back=True)
    await database_sync_to_async(in_transaction)(2, roll_back=False)
    assert await tab.expect("echo:x", "custom") == {"n": 2}  # the first one never went out
    assert await tab.nothing(0.3)


async def test_frames_of_one_user_on_many_sockets_are_all_answered_in_order_one_turn_at_a_time(amake_user, connect):
    from hub.consumer import USER_TURNS

    alice = await amake_user("alice")
    tabs = [await connect(alice) for _ in range(4)]
    for tab in tabs:
        await tab.ok("echo:x", "join")
    for n in range(10):  # 40 frames in flight at once, two of them handled at a time
        for i, tab in enumerate(tabs):
            await tab.send_frame("echo:x", "echo", {"n": n}, ref=f"{i}-{n}")
    for i, tab in enumerate(tabs):
        for n in range(10):
            reply = await tab.wait_for(lambda f: f.get("event") == "reply")
            assert reply["ref"] == f"{i}-{n}" and reply["payload"]["data"] == {"echo": {"n": n}}
    assert alice.pk not in USER_TURNS.entries


async def test_socket_idle_longer_than_ttl_closes_4408(amake_user, connect, settings):
    settings.HUB_PRESENCE_TTL = 1
    comm = await connect(await amake_user("alice"))
    assert await comm.expect_close(timeout=5) == protocol.CLOSE_IDLE


async def test_fifty_failures_in_ten_seconds_close_4429(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    for _ in range(49):
        await comm.send_to(text_data="garbage")
    for _ in range(49):
        await comm.receive_json_from()
    await comm.send_to(text_data="garbage")
    assert await comm.expect_close() == protocol.CLOSE_FLOODING


async def test_frames_beyond_the_socket_budget_get_rate_limited(amake_user, connect, settings):
    settings.HUB_FRAME_RATE = "5/10s"
    alice = await amake_user("alice")
    comm = await connect(alice)
    for _ in range(5):
        await comm.ok("hub", "heartbeat")
    error = await comm.error("hub", "heartbeat")
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 2
    # The budget is per socket: another tab of the same user is not affected.
    await (await connect(alice)).ok("hub", "heartbeat")


async def test_a_socket_redis_forgot_is_closed_4500_on_its_next_heartbeat(amake_user, connect):
    from hub.protocol import CLOSE_RESUME
    from hub.redis import get_async_redis

    comm = await connect(await amake_user("alice"))
    await comm.ok("hub", "heartbeat")
    await get_async_redis().flushdb()  # as after a Redis restart: pushes meanwhile were lost
    await comm.send_to(text_data=json.dumps({"topic": "hub", "event": "heartbeat", "payload": {}, "ref": "h"}))
    assert await comm.expect_close() == CLOSE_RESUME


async def test_sockets_resume_after_the_pubsub_connection_drops(amake_user, connect):
    """A dropped subscriber connection loses pushes silently; its sockets are closed 4500 to resume."""
    from hub.protocol import CLOSE_RESUME
    from hub.testing import drop_redis_connections

    comm = await connect(await amake_user("alice"))
    await comm.ok("hub", "heartbeat")
    assert await asyncio.to_thread(drop_redis_connections, "pubsub") >= 1
    assert await comm.expect_close(timeout=10) == CLOSE_RESUME


async def test_twenty_first_socket_of_a_user_closes_4429_after_hello(amake_user, connect, settings):
    settings.HUB_MAX_SOCKETS_PER_USER = 3
    alice = await amake_user("alice")
    for _ in range(3):
        await connect(alice)
    fourth = await connect(alice)
    assert fourth.hello["event"] == "hello"
    assert await fourth.expect_close() == protocol.CLOSE_FLOODING
    # A closed socket frees its place.
    await fourth.disconnect()
    await (await connect(await amake_user("bob"))).ok("hub", "heartbeat")


async def test_sockets_kept_alive_without_heartbeats_still_count_toward_the_limit(amake_user, connect, settings):
    """Any frame keeps a socket open, so any frame must keep its place in the per-user count."""
    settings.HUB_MAX_SOCKETS_PER_USER = 2
    settings.HUB_PRESENCE_TTL = 2
    settings.HUB_HEARTBEAT = 1
    alice = await amake_user("alice")
    tabs = [await connect(alice), await connect(alice)]
    for tab in tabs:
        await tab.ok("presence", "join")
    for _ in range(8):  # 3.2 s: longer than the TTL, with a frame every 0.4 s but no heartbeat
        for tab in tabs:
            await tab.ok("presence", "query", {"users": []})
        await asyncio.sleep(0.4)
    third = await connect(alice)
    assert await third.expect_close() == protocol.CLOSE_FLOODING


async def test_a_failed_session_check_is_retried_not_abandoned(amake_user, connect, settings, monkeypatch):
    from channels.db import database_sync_to_async
    from django.contrib.sessions.models import Session
    from django.db import OperationalError

    from hub import consumer

    settings.HUB_SESSION_CHECK_SECS = 1
    checks = []
    real_check = consumer.session_user

    def database_away_once(*args):
        checks.append(args)
        if len(checks) == 1:
            raise OperationalError("database is restarting")
        return real_check(*args)

    monkeypatch.setattr(consumer, "session_user", database_away_once)
    comm = await connect(await amake_user("alice"))
    await database_sync_to_async(lambda: Session.objects.all().delete())()
    assert await comm.expect_close(timeout=5) == protocol.CLOSE_SESSION_ENDED
    assert len(checks) >= 2


async def test_deleted_session_closes_4401_on_next_check(amake_user, connect, settings):
    settings.HUB_SESSION_CHECK_SECS = 1
    alice = await amake_user("alice")
    comm = await connect(alice)
    from channels.db import database_sync_to_async
    from django.contrib.sessions.models import Session

    await database_sync_to_async(lambda: Session.objects.all().delete())()
    assert await comm.expect_close(timeout=5) == protocol.CLOSE_SESSION_ENDED


async def test_deactivated_user_closes_4401(amake_user, connect, settings):
    settings.HUB_SESSION_CHECK_SECS = 1
    alice = await amake_user("alice")
    comm = await connect(alice)
    from channels.db import database_sync_to_async

    alice.is_active = False
    await database_sync_to_async(alice.save)()
    assert await comm.expect_close(timeout=5) == protocol.CLOSE_SESSION_ENDED


async def test_anonymous_and_bad_origin_handshakes_are_refused(amake_user):
    from hub.asgi import application

    async def refused(headers):
        comm = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await comm.connect()
        # As daphne does after a refused handshake: without this disconnect the consumer is left
        # waiting and is cancelled at the loop's teardown, inside channels-redis's unsubscribe
        # (a CI run hung there past the 120 s timeout). 5 s, as the connect fixture gives: with
        # the default 1 s a loaded machine cancels the consumer in the middle of its cleanup.
        await comm.disconnect(timeout=5)
        return not connected

    assert await refused(handshake_headers())
    from channels.db import database_sync_to_async
    from hub.testing.communicator import session_cookie_for

    cookie = (await database_sync_to_async(session_cookie_for)(await amake_user("alice"))).encode()
    for headers in (handshake_headers(cookie, origin=b"http://evil.example"), handshake_headers(cookie, origin=None),
                    handshake_headers(cookie, origin=b"http://localhost:6666"), handshake_headers(cookie, host=None)):
        assert await refused(headers), headers
    comm = WebsocketCommunicator(application, "/ws/", headers=handshake_headers(cookie))
    assert (await comm.connect())[0]  # the same cookie from the site's own origin is let in
    await comm.disconnect(timeout=5)
    await close_async_clients()  # as the connect fixture does: nothing of this loop is left to cancel


async def test_one_socket_errors_do_not_affect_another(amake_user, connect):
    alice = await amake_user("alice")
    noisy, calm = await connect(alice), await connect(alice)
    for _ in range(10):
        await noisy.send_to(text_data="{")
    assert (await calm.ok("hub", "heartbeat"))["server_time"]
    assert await calm.nothing(0.2)


@pytest.fixture
def refreshes(monkeypatch):
    """Counts the Redis refreshes that keep sockets alive (the real calls still run)."""
    from hub import connections
    from presence import services as presence_services

    counts = {"sockets": 0, "presence": 0}

    def counting(module, name, kind):
        real = getattr(module, name)

        async def wrapper(*args, **kwargs):
            counts[kind] += 1
            return await real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(connections, "refresh", "sockets")
    counting(presence_services, "connection_refresh", "presence")
    return counts


async def test_a_heartbeat_is_one_keep_alive_refresh_and_frames_add_none_within_its_interval(
        amake_user, connect, refreshes, settings):
    settings.HUB_HEARTBEAT = 1
    comm = await connect(await amake_user("alice"))
    await comm.ok("presence", "join")
    assert refreshes == {"sockets": 0, "presence": 0}  # registering at connect was the first
    await asyncio.sleep(1.1)  # a heartbeat interval, as between two of hub.js's heartbeats
    await comm.ok("hub", "heartbeat", {"status": "online"})
    assert refreshes == {"sockets": 1, "presence": 1}  # two round trips, as docs/architecture.md says
    for _ in range(5):
        await comm.ok("presence", "query", {"users": []})
    assert refreshes == {"sockets": 1, "presence": 1}


async def test_a_socket_without_heartbeats_is_refreshed_about_twice_per_ttl(amake_user, connect, refreshes, settings):
    settings.HUB_HEARTBEAT, settings.HUB_PRESENCE_TTL = 1, 2
    loop = asyncio.get_running_loop()
    connected = loop.time()
    comm = await connect(await amake_user("alice"))
    await comm.ok("presence", "join")
    frames = 0
    while loop.time() - connected < 2.5:  # a frame every 0.1 s: about 25 frames, 2 half-TTLs
        await comm.ok("presence", "query", {"users": []})
        frames += 1
        await asyncio.sleep(0.1)
    half_ttls = int((loop.time() - connected) / 1)
    assert frames > 10 and 1 <= refreshes["sockets"] <= half_ttls
    assert refreshes["presence"] == refreshes["sockets"]


async def test_the_watchdog_refreshes_a_quiet_socket_before_redis_would_forget_it(amake_user, connect, refreshes,
                                                                                  settings):
    """One frame soon after connecting, then quiet: the socket stays open until TTL after that
    frame, so its registration must outlive the TTL after connecting: the watchdog refreshes it."""
    settings.HUB_HEARTBEAT, settings.HUB_PRESENCE_TTL = 1, 2
    comm = await connect(await amake_user("alice"))
    await comm.ok("presence", "join")
    assert refreshes["sockets"] == 0
    await asyncio.sleep(1.3)  # past half the TTL after connecting, with a frame (the join) since
    assert refreshes == {"sockets": 1, "presence": 1}
    await comm.ok("hub", "heartbeat")  # open, and known to Redis (else this would close it 4500)

"""Property: any text and any JSON thrown at the socket gets an error reply or a documented close,
never an unhandled exception (daphne would turn one into 1011) and never a hang."""

import asyncio
import json
import logging

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from hub import app_settings
from hub.topics import registered
from hub.protocol import CLOSE_FLOODING
from hub.testing.communicator import HubCommunicator, close_async_clients, handshake_headers, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

# Every registered topic ("room:*" as "room:general", "doc:*" and "game:*" as "doc:4242" and "game:4242",
# which the second test creates) and every event any handler takes, read from the registry, plus names no topic or event has.
# hub:admin is left out: staff only, and no events but join and leave (hub/tests/test_live_view.py).
FUZZ_DOCUMENT_ID = 4242
JOINED = [pattern.replace("*", str(FUZZ_DOCUMENT_ID) if pattern in ("doc:*", "game:*") else "general")
          for pattern, _ in registered() if pattern != "hub:*"]
TOPICS = ["hub", *JOINED, *[pattern.replace("*", "nope") for pattern, _ in registered() if pattern.endswith("*")],
          "room:", "nope", ""]
EVENTS = sorted({event for _, handler in registered() for event in handler.events}
                | {"join", "leave", "heartbeat", "reply", "x"})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(
    st.sampled_from(["status", "users", "since", "ids", "id", "before", "limit", "title", "body", "level",
                     "expires_at", "username", "name", "private", "members", "client_id", "typing", "up_to",
                     "update", "state_vector", "anchor", "head", "opponent", "column", "moves"]),
    json_values, max_size=4,
) | json_values
envelopes = st.fixed_dictionaries(
    {"topic": st.sampled_from(TOPICS) | json_values, "event": st.sampled_from(EVENTS) | json_values},
    optional={"payload": payloads, "ref": st.text(max_size=70) | json_values},
)
frames = st.one_of(st.text(max_size=200), envelopes.map(json.dumps), json_values.map(json.dumps))


@pytest.fixture
def alice_cookie(make_user, django_db_blocker):
    user = make_user("fuzzer")
    with django_db_blocker.unblock():
        return session_cookie_for(user)


async def exchange(cookie, batch, prejoin=()):
    from hub.asgi import application

    comm = HubCommunicator(application, "/ws/", headers=handshake_headers(cookie))
    connected, _ = await comm.connect(timeout=5)
    assert connected
    assert (await comm.receive_json_from(timeout=5))["event"] == "hello"
    try:
        for topic in prejoin:
            await comm.ok(topic, "join", timeout=10)
        comm.buffer.clear()
        for text in batch:
            await comm.send_input({"type": "websocket.receive", "text": text})
            # Each frame is followed by a heartbeat with a known ref: once its reply arrives, every
            # earlier frame has been handled (frames are processed in order).
            await comm.send_to(text_data=json.dumps({"topic": "hub", "event": "heartbeat", "ref": "sync"}))
            while True:
                output = await comm.receive_output(timeout=10)
                assert output["type"] == "websocket.send", output
                frame = json.loads(output["text"])
                assert isinstance(frame, dict) and {"topic", "event", "payload"} <= frame.keys()
                if frame["event"] == "reply" and frame.get("ref") == "sync":
                    assert frame["payload"]["ok"] is True
                    break
                if frame["event"] == "reply" and not frame["payload"]["ok"]:
                    assert frame["payload"]["error"]["code"] in {
                        "bad_request", "unknown_topic", "unknown_event", "not_joined", "forbidden",
                        "not_found", "rate_limited", "too_large"}, frame
    finally:
        await comm.disconnect(timeout=5)
        await close_async_clients()


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(batch=st.lists(frames, min_size=1, max_size=8))
def test_arbitrary_frames_get_replies_not_crashes(alice_cookie, batch, monkeypatch, caplog):
    # This property is about crashes, not flooding: lift the failure limit for the run.
    monkeypatch.setattr(app_settings.AppSettings, "FLOOD_MAX_FAILURES", 10**6)
    monkeypatch.setattr(django_settings, "HUB_USER_BUDGET", "1000000/1s")  # Redis keeps it between examples
    caplog.clear()
    asyncio.run(exchange(alice_cookie, batch))
    # Bad input is answered, never logged as a server error with a traceback.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


joined_frames = st.fixed_dictionaries(
    {"topic": st.sampled_from(JOINED), "event": st.sampled_from(EVENTS)},
    optional={"payload": payloads, "ref": st.text(max_size=10)},
).map(json.dumps)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(batch=st.lists(joined_frames, min_size=1, max_size=8))
def test_arbitrary_payloads_to_joined_topics_get_replies_not_crashes(alice_cookie, batch, monkeypatch, caplog):
    """The handlers themselves, past the join: every event of every topic with any payload."""
    from chat.models import Room

    from collab.models import Document
    from django.contrib.auth import get_user_model

    Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    from games.models import Game

    fuzzer = get_user_model().objects.get(username="fuzzer")
    Document.objects.get_or_create(pk=FUZZ_DOCUMENT_ID, defaults={"title": "Fuzzed", "owner": fuzzer})
    other = get_user_model().objects.get_or_create(username="fuzzed-opponent")[0]
    Game.objects.get_or_create(pk=FUZZ_DOCUMENT_ID, defaults={
        "first": fuzzer, "second": other, "clock_first_ms": 300_000, "clock_second_ms": 300_000})
    monkeypatch.setattr(app_settings.AppSettings, "FLOOD_MAX_FAILURES", 10**6)
    monkeypatch.setattr(django_settings, "HUB_USER_BUDGET", "1000000/1s")  # Redis keeps it between examples
    caplog.clear()
    asyncio.run(exchange(alice_cookie, batch, prejoin=JOINED))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_flooding_still_closes_with_4429(alice_cookie):
    async def flood():
        from hub.asgi import application

        comm = HubCommunicator(application, "/ws/", headers=handshake_headers(alice_cookie))
        await comm.connect(timeout=5)
        for _ in range(60):
            await comm.send_to(text_data="{}")
        code = await comm.expect_close(timeout=10)
        await comm.disconnect()
        await close_async_clients()
        return code

    assert asyncio.run(flood()) == CLOSE_FLOODING

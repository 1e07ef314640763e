"""The protocol table (tests/protocol_schema.py) covers every registered topic and event, and catches drift."""

import pytest

from hub.topics import registered
from tests import protocol_schema as schema
from tests.protocol_schema import ProtocolDrift


def test_every_registered_topic_and_event_has_a_reply_shape():
    for pattern, handler in registered():
        for event in ("join", *handler.events):
            assert (pattern, event) in schema.REPLIES, f"{pattern} {event}: add its reply to tests/protocol_schema.py"


def test_the_table_names_only_topics_that_exist():
    assert schema.TOPIC_PATTERNS == {"hub", *(pattern for pattern, _ in registered())}


def user(**changes):
    return {"id": 1, "username": "ann", "display_name": "Ann", **changes}


@pytest.mark.parametrize("frame", [
    {"topic": "room:x", "event": "typing", "payload": {"user": user(), "typing": "yes"}},  # ill-typed field
    {"topic": "room:x", "event": "typing", "payload": {"user": user(id=True), "typing": True}},  # bool for int
    {"topic": "room:x", "event": "typing", "payload": {"user": user(), "typing": True, "extra": 1}},  # new field
    {"topic": "room:x", "event": "typing", "payload": {"typing": True}},  # missing field
    {"topic": "room:x", "event": "shouting", "payload": {}},  # undocumented push on a known topic
    {"topic": "presence", "event": "diff", "payload": {"joins": [user(status="asleep", last_seen=None)],
                                                       "leaves": [], "updates": []}},
    {"topic": "hub", "event": "hello", "payload": {"protocol": 1, "conn": "c", "user": user(), "heartbeat": 25,
                                                   "server_time": "yesterday"}},
])
def test_drift_in_a_push_is_caught(frame):
    with pytest.raises(ProtocolDrift):
        schema.check_frame(frame, {})


def test_replies_are_checked_against_the_request_they_answer():
    reply = {"topic": "room:x", "event": "reply", "ref": "1", "payload": {"ok": True, "data": {"up_to": 5}}}
    schema.check_frame(reply, {"1": "read"})
    with pytest.raises(ProtocolDrift):
        schema.check_frame(reply, {"1": "send"})
    error = {"topic": "room:x", "event": "reply", "ref": None,
             "payload": {"ok": False, "error": {"code": "teapot", "message": "?"}}}
    with pytest.raises(ProtocolDrift):
        schema.check_frame(error, {})


def test_pushes_of_topics_no_app_registers_are_left_alone():
    schema.check_frame({"topic": "echo:a", "event": "anything", "payload": {"x": 1}}, {})

"""The wire envelope: parsing, validation, reply shapes, and the named close codes."""

import json
from dataclasses import dataclass, field

from hub.errors import BadRequest

PROTOCOL_VERSION = 1
MAX_REF_LENGTH = 64
MAX_TOPIC_LENGTH = 200
MAX_EVENT_LENGTH = 64
HUB_TOPIC = "hub"

# Close codes (PROTOCOL.md "Close codes"). 1009 and 1001 come from the server's
# protocol layer (daphne/autobahn), never from the application.
CLOSE_TOO_LARGE = 1009
CLOSE_GOING_AWAY = 1001
CLOSE_SESSION_ENDED = 4401
CLOSE_IDLE = 4408
CLOSE_FLOODING = 4429


@dataclass
class Frame:
    """One validated client frame."""

    topic: str
    event: str
    payload: dict = field(default_factory=dict)
    ref: str | None = None


def parse_frame(text):
    """Parse one text frame; raise BadRequest with the best topic/ref we could read.

    The raised error carries `topic` and `ref` attributes so the consumer can address
    the failure reply even when the frame is only partly valid.
    """
    try:
        data = json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise _bad("Frame is not valid JSON.")
    if not isinstance(data, dict):
        raise _bad("Frame must be a JSON object.")
    problem = _unstorable_text(data)
    if problem:
        raise _bad(f"Frame contains {problem}.")
    topic = data.get("topic")
    ref = data.get("ref")
    good_topic = topic if isinstance(topic, str) and 0 < len(topic) <= MAX_TOPIC_LENGTH else HUB_TOPIC
    if "ref" in data and ref is not None:
        if not isinstance(ref, str):
            raise _bad("`ref` must be a string.", topic=good_topic)
        if len(ref) > MAX_REF_LENGTH:
            raise _bad(f"`ref` is longer than {MAX_REF_LENGTH} characters.", topic=good_topic)
    if not isinstance(topic, str) or not topic:
        raise _bad("`topic` must be a non-empty string.", ref=ref)
    if len(topic) > MAX_TOPIC_LENGTH:
        raise _bad(f"`topic` is longer than {MAX_TOPIC_LENGTH} characters.", ref=ref)
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise _bad("`event` must be a non-empty string.", topic=topic, ref=ref)
    if len(event) > MAX_EVENT_LENGTH:
        raise _bad(f"`event` is longer than {MAX_EVENT_LENGTH} characters.", topic=topic, ref=ref)
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        raise _bad("`payload` must be a JSON object.", topic=topic, ref=ref)
    return Frame(topic=topic, event=event, payload=payload, ref=ref)


def _not_json(constant):
    # Python's json accepts NaN and Infinity; JSON does not, and browsers cannot parse them back.
    raise ValueError(f"{constant} is not JSON")


def _unstorable_text(value):
    """Name the first string problem no database or client could take, or return None.

    Lone surrogates decode from JSON escapes but cannot be encoded as UTF-8; NUL
    characters cannot be stored in PostgreSQL text. Keys and values are both checked.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "invalid Unicode (a lone surrogate)"
            if "\x00" in item:
                return "a NUL character (\\u0000)"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _bad(message, topic=HUB_TOPIC, ref=None):
    error = BadRequest(message)
    error.topic = topic
    error.ref = ref
    return error


def push(topic, event, payload):
    return {"topic": topic, "event": event, "payload": payload}


def ok_reply(topic, ref, data):
    return {"topic": topic, "event": "reply", "ref": ref, "payload": {"ok": True, "data": data}}


def error_reply(topic, ref, error):
    return {"topic": topic, "event": "reply", "ref": ref, "payload": {"ok": False, "error": error.as_dict()}}


def encode(message):
    """Serialize a server frame; compact separators keep fan-out frames small."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)

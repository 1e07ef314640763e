"""The wire: envelope parsing and validation, reply shapes, times, and every close code, named once."""

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hub import app_settings, counters
from hub.errors import BadRequest, TooLarge
from hub.users import user_dict

PROTOCOL_VERSION = 1
HUB_TOPIC = "hub"

# Close codes (docs/protocol.md "Close codes"). 1009 and 1001 come from the server's
# protocol layer (daphne/autobahn, see hub.daphne_limits): an application may only
# close with 1000 or 3000-4999.
CLOSE_GOING_AWAY = 1001  # the server is shutting down
CLOSE_TOO_LARGE = 1009  # a client frame over HUB_MAX_FRAME
CLOSE_SESSION_ENDED = 4401  # logout, expiry or deactivation while the socket was open
CLOSE_IDLE = 4408  # no frame from the client within the presence TTL
CLOSE_FLOODING = 4429  # too many failed frames, or too many sockets of one user
CLOSE_SLOW_CONSUMER = 4413  # over HUB_MAX_BUFFERED unsent: the client does not read what it is sent
CLOSE_RESUME = 4500  # pushes may have been lost (Redis restarted, ...): reconnect and re-join with `since`

# An ASGI `websocket.send` message carrying this key is a push the server may skip for a
# socket that is behind (typing, presence diffs); hub.daphne_limits decides, other servers
# ignore the key and send it.
DROPPABLE_KEY = "hub.droppable"


@dataclass
class Frame:
    """One validated client frame."""

    topic: str
    event: str
    payload: dict = field(default_factory=dict)
    ref: str | None = None

    @property
    def is_heartbeat(self):
        return self.topic == HUB_TOPIC and self.event == "heartbeat"


def parse_frame(text, max_length):
    """Parse one client frame (None for a binary one); raise a HubError carrying the best topic/ref we could read.

    The error's `topic` and `ref` attributes let the consumer address the failure reply
    even when the frame is only partly valid.
    """
    counters.count("frames_in")
    if text is None:
        raise _bad("Binary frames are not supported; send JSON text.")
    if len(text) > max_length:
        # daphne's protocol layer closes with 1009 first; other servers reach this check.
        raise _addressed(TooLarge(f"Frame is larger than {max_length} bytes."))
    try:
        data = json.loads(text, parse_constant=not_json)
    except (ValueError, RecursionError):
        raise _bad("Frame is not valid JSON.")
    if not isinstance(data, dict):
        raise _bad("Frame must be a JSON object.")
    problem = unstorable_text(data)
    if problem:
        raise _bad(f"Frame contains {problem}.")
    topic = data.get("topic")
    ref = data.get("ref")
    good_topic = topic if isinstance(topic, str) and 0 < len(topic) <= app_settings.MAX_TOPIC_LENGTH else HUB_TOPIC
    if "ref" in data and ref is not None:
        if not isinstance(ref, str):
            raise _bad("`ref` must be a string.", topic=good_topic)
        if len(ref) > app_settings.MAX_REF_LENGTH:
            raise _bad(f"`ref` is longer than {app_settings.MAX_REF_LENGTH} characters.", topic=good_topic)
    if not isinstance(topic, str) or not topic:
        raise _bad("`topic` must be a non-empty string.", ref=ref)
    if len(topic) > app_settings.MAX_TOPIC_LENGTH:
        raise _bad(f"`topic` is longer than {app_settings.MAX_TOPIC_LENGTH} characters.", ref=ref)
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise _bad("`event` must be a non-empty string.", topic=topic, ref=ref)
    if len(event) > app_settings.MAX_EVENT_LENGTH:
        raise _bad(f"`event` is longer than {app_settings.MAX_EVENT_LENGTH} characters.", topic=topic, ref=ref)
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        raise _bad("`payload` must be a JSON object.", topic=topic, ref=ref)
    return Frame(topic=topic, event=event, payload=payload, ref=ref)


def not_json(constant):
    """json.loads's `parse_constant`: refuse NaN and Infinity (ValueError).

    Python's json accepts them; JSON does not, and browsers cannot parse them back.
    """
    raise ValueError(f"{constant} is not JSON")


def unstorable_text(value):
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
    return _addressed(BadRequest(message), topic, ref)


def _addressed(error, topic=HUB_TOPIC, ref=None):
    error.topic = topic
    error.ref = ref
    return error


def hello(conn_id, user, heartbeat_s):
    """The first frame of every accepted socket."""
    counters.count("frames_out", HUB_TOPIC, "hello")
    return push(HUB_TOPIC, "hello", {"protocol": PROTOCOL_VERSION, "conn": conn_id, "user": user_dict(user),
                                     "heartbeat": heartbeat_s, "server_time": now_iso()})


def push(topic, event, payload):
    return {"topic": topic, "event": event, "payload": payload}


def ok_reply(topic, ref, data):
    counters.count("frames_out", counters.topic_label(topic), "reply")
    return {"topic": topic, "event": "reply", "ref": ref, "payload": {"ok": True, "data": data}}


def error_reply(topic, ref, error):
    counters.count("frames_out", counters.topic_label(topic), "reply")
    counters.count("errors", error.code)
    return {"topic": topic, "event": "reply", "ref": ref, "payload": {"ok": False, "error": error.as_dict()}}


def heartbeat_reply(resync):
    """A heartbeat's reply data: the server's clock, and the outbox's resync marker once this process knows it."""
    data = {"server_time": now_iso()}
    if resync is not None:
        data["resync"] = resync
    return data


def encode(message):
    """Serialize a server frame; compact separators keep fan-out frames small."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)


def iso(dt):
    """A time on the wire: ISO-8601 in UTC with a trailing Z ("2026-12-01T22:15:59.123456Z"), or None."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def now_iso():
    return iso(datetime.now(timezone.utc))

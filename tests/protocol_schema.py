"""The protocol as a table: every push and every reply of docs/protocol.md, checked against every frame tests see.

The test clients of hub.testing (registered by conftest.py) call `check_push` and
`check_reply` on each frame they receive, so a server that drifts from the documented
shapes fails whichever test saw the drift. Topics no app registers (test-only topics such
as `echo:*`) are not checked; an event the table does not know on a topic it does know is
drift too. `tests/test_protocol_schema.py` keeps the table complete against the registry.
"""

import re

# --- a small shape language: a type, a literal, a tuple of alternatives, [shape], {key: shape}
#     ("key?" for optional keys), or one of the helpers below.


class Nullable:
    def __init__(self, shape):
        self.shape = shape


class OneOf:
    def __init__(self, *values):
        self.values = values


class Text:
    """A string matching a pattern."""

    def __init__(self, pattern, name):
        self.pattern, self.name = re.compile(pattern), name


ISO = Text(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", "an ISO-8601 UTC time")
ANY_OBJECT = dict
NUMBER = (int, float)

USER = {"id": int, "username": str, "display_name": str}
PRESENCE = {**USER, "status": OneOf("online", "away", "offline"), "last_seen": Nullable(ISO), "metas?": [ANY_OBJECT]}
# `count` and `more` are absent only from the leave pushed at once for a deleted user.
DIFF = {"joins": [PRESENCE], "leaves": [PRESENCE], "updates": [PRESENCE], "count?": int, "more?": bool}
MESSAGE = {"id": int, "seq": int, "change_seq": int, "room": str, "author": USER, "body": str, "created_at": ISO, "edited_at": Nullable(ISO),
           "edited_by": Nullable(USER), "deleted": bool, "client_id": Nullable(str)}
ROOM = {"slug": str, "name": str, "kind": OneOf("public", "private", "direct"), "unread": int,
        "last_message_id": Nullable(int), "muted": bool, "muted_until": Nullable(ISO)}
READ_MARKER = {"user": USER, "last_read_id": Nullable(int)}
NOTIFICATION = {"id": int, "seq": int, "verb": str, "level": OneOf("info", "success", "warning", "error"), "actor": Nullable(USER),
                "target": Nullable({"type": str, "id": str, "repr": str}), "data": ANY_OBJECT, "url": Nullable(str),
                "unread": bool, "created_at": ISO, "count": int, "actors": [USER], "actor_count": int}
ANNOUNCEMENT = {"id": int, "title": str, "body": str, "level": OneOf("info", "warning", "critical"),
                "author": Nullable(USER), "created_at": ISO, "expires_at": Nullable(ISO),
                "audience": OneOf("all", "staff", "online", "group"), "audience_group": Nullable(str)}
ERROR_CODES = ("bad_request", "unknown_topic", "unknown_event", "not_joined", "forbidden", "not_found",
               "rate_limited", "too_large", "internal")
PREFERENCES = {"kinds": [{"kind": str, "label": str, "deliveries": [OneOf("in_app", "email", "off")],
                          "delivery": OneOf("in_app", "email", "off")}],
               "do_not_disturb": bool, "appear_offline": bool}
ERROR = {"code": OneOf(*ERROR_CODES), "message": str, "retry_after?": NUMBER}

PROCESS_STATS = {"id": str, "host": str, "pid": int, "started_at": ISO, "at": ISO, "sockets": int,
                 "per_second": {"frames_in": NUMBER, "frames_out": NUMBER, "pushes_published": NUMBER},
                 "last_minute": {"errors": ANY_OBJECT, "closes": ANY_OBJECT}}
LIVE_STATS = {"at": ISO, "gauges": [{"name": str, "help": str, "value": Nullable(NUMBER)}],
              "processes": [PROCESS_STATS],
              "totals": {"sockets": int, "per_second": {"frames_in": NUMBER, "frames_out": NUMBER,
                                                         "pushes_published": NUMBER},
                         "last_minute": {"errors": ANY_OBJECT, "closes": ANY_OBJECT}}}
B64 = Text(r"^[A-Za-z0-9+/]*={0,2}$", "base64")
CURSOR = {"id": str, "user": USER, "color": Text(r"^#[0-9a-f]{6}$", "a colour"), "anchor": Nullable(B64),
          "head": Nullable(B64)}
DOC_ROLE = OneOf("editor", "viewer")
GAME = {"id": int, "players": [USER], "board": [[Nullable(str)]], "turn": Nullable(str), "winner": Nullable(str),
        "draw": bool, "moves": int, "last_column": Nullable(int), "clocks": ANY_OBJECT,
        "ended": Nullable(OneOf("four", "draw", "resign", "time", "forfeit", "abandoned"))}

# (topic pattern, event) -> payload shape of the server's pushes.
PUSHES = {
    ("hub", "hello"): {"protocol": OneOf(1), "conn": str, "user": USER, "heartbeat": int, "server_time": ISO},
    ("presence", "diff"): DIFF,
    ("notifications", "new"): {"notification": NOTIFICATION, "unread": int},
    ("notifications", "updated"): {"notification": NOTIFICATION, "unread": int},
    ("notifications", "unread"): {"unread": int, "read_ids": (OneOf("all"), [int])},
    ("notifications", "preferences"): {"preferences": PREFERENCES},
    ("announcements", "new"): {"announcement": ANNOUNCEMENT},
    ("announcements", "updated"): {"announcement": ANNOUNCEMENT},
    ("announcements", "dismissed"): {"id": int},
    ("announcements", "deleted"): {"id": int},
    ("announcements", "withdrawn"): {"id": int},
    ("announcements", "refresh"): {"items": [ANNOUNCEMENT], "off": bool},
    ("chat", "room"): {"room": ROOM},
    ("chat", "unread"): {"room": str, "unread": int, "last_message_id": int},
    ("chat", "removed"): {"room": str},
    ("room:*", "message"): {"message": MESSAGE},
    ("room:*", "edited"): {"message": MESSAGE},
    ("room:*", "deleted"): {"message": MESSAGE},
    ("room:*", "typing"): {"user": USER, "typing": bool},
    ("room:*", "read"): {"user": USER, "up_to": int},
    ("room:*", "presence"): DIFF,
    ("room:*", "removed"): {"room": str},
    ("hub:*", "stats"): LIVE_STATS,
    ("hub:*", "removed"): {"reason": OneOf("forbidden")},
    ("stream:*", "ticks"): {"values": ANY_OBJECT, "seq": int},
    ("stream:*", "removed"): {"reason": OneOf("forbidden")},
    ("doc:*", "update"): {"update": B64, "from": str},
    ("doc:*", "awareness"): (CURSOR, {"id": str, "gone": bool}),
    ("doc:*", "access"): {"role": DOC_ROLE},
    ("doc:*", "removed"): {"reason": OneOf("forbidden", "deleted")},
    ("games", "invited"): {"game": GAME},
    ("games", "matched"): {"game": GAME},
    ("games", "finished"): {"game": GAME},
    ("game:*", "state"): {"game": GAME},
    ("game:*", "presence"): DIFF,
}

# (topic pattern, client event) -> the `data` of a successful reply. `leave` is {} everywhere.
REPLIES = {
    ("hub", "heartbeat"): {"server_time": ISO, "resync?": int},
    ("presence", "join"): {"users": [PRESENCE], "count": int, "more": bool},
    ("presence", "set"): {"status": OneOf("online", "away")},
    ("presence", "query"): {"users": [PRESENCE]},
    ("presence", "watch"): {"users": [PRESENCE]},
    ("notifications", "join"): {"unread": int, "items": [NOTIFICATION], "more": bool, "unread_ids?": [int],
                                "preferences": PREFERENCES},
    ("notifications", "read"): {"unread": int, "read_ids": [int]},
    ("notifications", "read_all"): {"unread": OneOf(0), "read_ids": OneOf("all")},
    ("notifications", "list"): {"items": [NOTIFICATION]},
    ("announcements", "join"): {"items": [ANNOUNCEMENT]},
    ("announcements", "dismiss"): {"id": int},
    ("announcements", "publish"): {"announcement": ANNOUNCEMENT},
    ("chat", "join"): {"rooms": [ROOM]},
    ("chat", "open_dm"): {"room": ROOM},
    ("chat", "create"): {"room": ROOM},
    ("chat", "leave_room"): {"room": str},
    ("room:*", "join"): {"room": ROOM, "messages": [MESSAGE], "present": [PRESENCE], "present_count": int,
                         "present_more": bool, "more": bool,
                         "last_change": int, "changes?": [MESSAGE], "read_markers": Nullable([READ_MARKER])},
    ("room:*", "send"): {"message": MESSAGE},
    ("room:*", "history"): {"messages": [MESSAGE]},
    ("room:*", "typing"): {},
    ("room:*", "read"): {"up_to": int},
    ("room:*", "edit"): {"message": MESSAGE},
    ("room:*", "delete"): {"message": MESSAGE},
    ("room:*", "remove"): {"username": str},
    ("room:*", "mute"): {"muted": bool, "until": Nullable(ISO)},
    ("room:*", "members"): {"members": [USER]},
    ("hub:*", "join"): LIVE_STATS,
    ("stream:*", "join"): {"snapshot": ANY_OBJECT, "seq": int},
    ("doc:*", "join"): {"document": {"id": int, "title": str, "public": bool, "owner": str}, "role": DOC_ROLE,
                        "update": B64, "state_vector": B64, "me": CURSOR, "awareness": [CURSOR]},
    ("doc:*", "update"): {},
    ("doc:*", "awareness"): {},
    ("games", "join"): {"games": [GAME], "results": [GAME], "waiting": bool},
    ("games", "create"): {"game": GAME},
    ("games", "quick"): {"waiting": bool, "game?": GAME},
    ("games", "cancel_quick"): {"waiting": bool},
    ("game:*", "join"): {"game": GAME},
    ("game:*", "move"): {"game": GAME},
    ("game:*", "resign"): {"game": GAME},
}
TOPIC_PATTERNS = {pattern for pattern, _ in (*PUSHES, *REPLIES)}


class ProtocolDrift(AssertionError):
    pass


def pattern_of(topic):
    """The table's pattern for a topic name ("room:*" for "room:general"), or None if the table does not know it."""
    if not isinstance(topic, str):
        return None
    if topic in TOPIC_PATTERNS:
        return topic
    prefixed = topic.split(":", 1)[0] + ":*"
    return prefixed if ":" in topic and prefixed in TOPIC_PATTERNS else None


def check_frame(frame, sent_events):
    """Check any server frame: a reply against the request `sent_events[ref]` named, a push against PUSHES."""
    if not isinstance(frame, dict) or not {"topic", "event", "payload"} <= frame.keys():
        raise ProtocolDrift(f"not a server frame: {frame!r}")
    if frame["event"] != "reply":
        check_push(frame)
        return
    event = sent_events.get(frame.get("ref")) if isinstance(frame.get("ref"), str) else None
    if event is not None or not frame["payload"].get("ok", True):
        check_reply(frame, event)


def check_push(frame):
    """Raise ProtocolDrift unless a server push (not a reply) has its documented shape."""
    pattern = pattern_of(frame.get("topic"))
    if pattern is None:
        return
    shape = PUSHES.get((pattern, frame.get("event")))
    if shape is None:
        raise ProtocolDrift(f"undocumented push {frame.get('event')!r} on {frame.get('topic')!r}: {frame}")
    check(frame.get("payload"), shape, f"{frame['topic']} {frame['event']}")


def check_reply(frame, event):
    """Raise ProtocolDrift unless a reply to a client `event` on its topic has its documented shape."""
    payload = frame.get("payload")
    where = f"reply to {frame.get('topic')} {event}"
    check(payload, {"ok": bool, "data?": ANY_OBJECT, "error?": ERROR}, where)
    if not payload["ok"]:
        check(payload, {"ok": bool, "error": ERROR}, where)
        return
    pattern = pattern_of(frame.get("topic"))
    if pattern is None:
        return
    shape = {} if event == "leave" else REPLIES.get((pattern, event))
    if shape is None:
        raise ProtocolDrift(f"undocumented event {event!r} on {frame.get('topic')!r} was answered ok: {frame}")
    check(payload["data"], shape, where)


def check(value, shape, where="value"):
    """Raise ProtocolDrift naming the first place `value` departs from `shape`."""
    problem = _problem(value, shape, where)
    if problem:
        raise ProtocolDrift(problem)


def _problem(value, shape, where):
    if isinstance(shape, dict):
        return _dict_problem(value, shape, where)
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where}: expected a list, got {value!r}"
        return next((p for i, item in enumerate(value) if (p := _problem(item, shape[0], f"{where}[{i}]"))), None)
    if isinstance(shape, tuple) and not all(isinstance(s, type) for s in shape):
        problems = [_problem(value, alternative, where) for alternative in shape]
        return None if None in problems else " / ".join(problems)
    if isinstance(shape, Nullable):
        return None if value is None else _problem(value, shape.shape, where)
    if isinstance(shape, OneOf):
        return None if value in shape.values and type(value) is not bool else f"{where}: {value!r} not in {shape.values}"
    if isinstance(shape, Text):
        ok = isinstance(value, str) and shape.pattern.match(value)
        return None if ok else f"{where}: {value!r} is not {shape.name}"
    types = shape if isinstance(shape, tuple) else (shape,)
    if isinstance(value, bool) and bool not in types:
        return f"{where}: expected {shape}, got a boolean"
    return None if isinstance(value, types) else f"{where}: expected {shape}, got {value!r}"


def _dict_problem(value, shape, where):
    if not isinstance(value, dict):
        return f"{where}: expected an object, got {value!r}"
    keys = {key.rstrip("?") for key in shape}
    extra = set(value) - keys
    if extra:
        return f"{where}: undocumented field(s) {sorted(extra)} in {value}"
    for key, item_shape in shape.items():
        name = key.rstrip("?")
        if name not in value:
            if key.endswith("?"):
                continue
            return f"{where}: missing field {name!r} in {value}"
        problem = _problem(value[name], item_shape, f"{where}.{name}")
        if problem:
            return problem
    return None

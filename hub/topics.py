"""The topic registry and the Topic base class every app's handlers extend.

Apps call `register("room:*", RoomTopic)` in `AppConfig.ready()`; the consumer
looks topics up here and knows no app by name (Phoenix's socket/channel split).
"""

import re

from hub.errors import BadRequest, UnknownEvent

_registry = []  # [(pattern, handler_class)], exact patterns before prefix patterns
_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(:\*)?$")
_EVENT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def register(pattern, handler_class):
    """Route topics matching `pattern` ("presence", or "room:*" for a prefix) to `handler_class`."""
    if not _PATTERN.match(pattern):
        raise ValueError(f"bad topic pattern {pattern!r}: use 'name' or 'name:*'")
    if not (isinstance(handler_class, type) and issubclass(handler_class, Topic)):
        raise TypeError("handler_class must be a hub.topics.Topic subclass")
    for existing, cls in _registry:
        if existing == pattern:
            if cls is handler_class:
                return
            raise ValueError(f"topic pattern {pattern!r} is already registered to {cls.__name__}")
    _registry.append((pattern, handler_class))
    _registry.sort(key=lambda item: item[0].endswith("*"))


def unregister(pattern):
    """Remove a pattern (tests use it to register throwaway topics)."""
    _registry[:] = [item for item in _registry if item[0] != pattern]


def lookup(topic):
    """Return `(handler_class, suffix)` for a topic name, or `(None, None)`.

    `suffix` is the part after the prefix of a "name:*" pattern ("general" for
    "room:general"), or "" for an exact pattern.
    """
    for pattern, cls in _registry:
        if pattern.endswith(":*"):
            prefix = pattern[:-1]
            if topic.startswith(prefix) and len(topic) > len(prefix):
                return cls, topic[len(prefix):]
        elif topic == pattern:
            return cls, ""
    return None, None


class Topic:
    """One socket's membership of one topic: `join`, `on_<event>` handlers, `leave`.

    Subclasses list their client events in `events`; a handler method is
    `async def on_<event>(self, payload)` returning the reply data (a dict) or
    raising a HubError. `conn` is the socket (a hub.consumer.HubConsumer):
    its `user`, `conn_id`, `subscribe`/`unsubscribe` and `send_push`. Authorization belongs in `join`.
    """

    events = ()

    def __init__(self, conn, topic, suffix):
        self.conn = conn
        self.topic = topic
        self.suffix = suffix

    @property
    def user(self):
        return self.conn.user

    async def join(self, payload):
        """Authorize and subscribe; return the join reply data. Called again on a re-join."""
        raise NotImplementedError

    async def leave(self):
        """Undo `join` (unsubscribe, untrack). Also called when the socket closes."""

    async def handle(self, event, payload):
        if event not in self.events or not _EVENT.match(event):
            raise UnknownEvent(f"Topic {self.topic!r} has no event {event!r}.")
        return await getattr(self, f"on_{event}")(payload)

    async def on_push(self, event, payload, message):
        """Filter or reshape a push before it reaches this socket; return None to drop it.

        Return a new dict to reshape it: `payload` and `message` are shared by every
        socket of this process (hub.layers), so they must not be changed in place.
        """
        return payload

    async def on_heartbeat(self, status):
        """Called on each client heartbeat (status is "online", "away" or None)."""


# Payload validation helpers shared by every app's handlers.


def get_str(payload, key, *, required=True, max_length=None, allow_empty=False, default=None):
    value = payload.get(key, default)
    if value is None and not required:
        return default
    if not isinstance(value, str):
        raise BadRequest(f"`{key}` must be a string.")
    if not allow_empty and not value.strip():
        raise BadRequest(f"`{key}` must not be empty.")
    if max_length is not None and len(value) > max_length:
        raise BadRequest(f"`{key}` is longer than {max_length} characters.")
    return value


def get_int(payload, key, *, required=True, minimum=None, maximum=None, default=None):
    value = payload.get(key, default)
    if value is None and not required:
        return default
    # bool is an int subclass in Python; JSON true is not an id.
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"`{key}` must be an integer.")
    if not -(2**63) <= value < 2**63:
        # Ids are 64-bit in every database we support; bigger ones would overflow there.
        raise BadRequest(f"`{key}` is out of range.")
    if minimum is not None and value < minimum:
        raise BadRequest(f"`{key}` must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise BadRequest(f"`{key}` must be at most {maximum}.")
    return value


def get_bool(payload, key, *, required=True, default=None):
    value = payload.get(key, default)
    if value is None and not required:
        return default
    if not isinstance(value, bool):
        raise BadRequest(f"`{key}` must be true or false.")
    return value


def get_list(payload, key, *, item_type, max_items, required=True, default=None):
    value = payload.get(key, default)
    if value is None and not required:
        return default
    if not isinstance(value, list) or not all(
        isinstance(item, item_type) and not (item_type is int and isinstance(item, bool)) for item in value
    ):
        raise BadRequest(f"`{key}` must be a list of {item_type.__name__}.")
    if len(value) > max_items:
        raise BadRequest(f"`{key}` has more than {max_items} items.")
    if item_type is int and not all(-(2**63) <= item < 2**63 for item in value):
        raise BadRequest(f"`{key}` has an item out of range.")
    return value


def get_choice(payload, key, choices, *, required=True, default=None):
    value = payload.get(key, default)
    if value is None and not required:
        return default
    if value not in choices:
        raise BadRequest(f"`{key}` must be one of {', '.join(choices)}.")
    return value

"""The topic registry and the Topic base class every app's handlers extend.

Apps call `register("room:*", RoomTopic)` in `AppConfig.ready()`; the consumer
looks topics up here and knows no app by name (Phoenix's socket/channel split).
"""

import logging
import re

from django.core.exceptions import ImproperlyConfigured

from hub import app_settings, budget
from hub.errors import BadRequest, NotJoined, RateLimited, UnknownEvent, UnknownTopic
from hub.guards import FrameBudget
from hub.push import topic_group

logger = logging.getLogger(__name__)
_registry = []  # [(pattern, handler_class)], exact patterns before prefix patterns
_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(:\*)?$")
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Events the consumer handles itself on every topic, and `reply`, which only servers send.
RESERVED_EVENTS = frozenset({"join", "leave", "reply"})
# `on_` methods that are hooks of the base class, not client events.
HOOKS = frozenset({"on_push"})


def register(pattern, handler_class):
    """Route topics matching `pattern` ("presence", or "room:*" for a prefix) to `handler_class`.

    Checks the class now, so a topic whose `events` and `on_<event>` methods disagree
    stops the server at startup instead of failing at its first frame.
    """
    if not _PATTERN.match(pattern):
        raise ValueError(f"bad topic pattern {pattern!r}: use 'name' or 'name:*'")
    if not (isinstance(handler_class, type) and issubclass(handler_class, Topic)):
        raise TypeError("handler_class must be a hub.topics.Topic subclass")
    check_handler_class(handler_class)
    for existing, cls in _registry:
        if existing == pattern:
            if cls is handler_class:
                return
            raise ValueError(f"topic pattern {pattern!r} is already registered to {cls.__name__}")
    _registry.append((pattern, handler_class))
    _registry.sort(key=lambda item: item[0].endswith("*"))


def check_handler_class(handler_class):
    """Raise ImproperlyConfigured unless `events` and the `on_<event>` methods match one to one."""
    name = handler_class.__name__
    if handler_class.join is Topic.join:
        raise ImproperlyConfigured(f"{name} must define `async def join(self, payload)`")
    events = handler_class.events
    if isinstance(events, str) or len(set(events)) != len(events):
        raise ImproperlyConfigured(f"{name}.events must be a tuple of distinct event names")
    for event in events:
        if not isinstance(event, str) or not EVENT_NAME.match(event) or event in RESERVED_EVENTS:
            raise ImproperlyConfigured(f"{name}.events: {event!r} is not a usable event name")
        if not callable(getattr(handler_class, f"on_{event}", None)):
            raise ImproperlyConfigured(f"{name} lists event {event!r} but has no on_{event}() method")
    costs = handler_class.costs
    if not isinstance(costs, dict):
        raise ImproperlyConfigured(f"{name}.costs must be a dict of event name -> weight")
    for event, weight in costs.items():
        if event != "join" and event not in events:
            raise ImproperlyConfigured(f"{name}.costs: {event!r} is neither 'join' nor one of its events")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= app_settings.MAX_EVENT_COST:
            raise ImproperlyConfigured(f"{name}.costs[{event!r}] must be a whole number from 1 to "
                                       f"{app_settings.MAX_EVENT_COST}")
    unlisted = sorted(
        attr for attr in dir(handler_class)
        if attr.startswith("on_") and attr not in HOOKS and attr[3:] not in events
        and callable(getattr(handler_class, attr))
    )
    if unlisted:
        raise ImproperlyConfigured(f"{name} has {', '.join(unlisted)} but does not list it in `events`")


def unregister(pattern):
    """Remove a pattern (tests use it to register throwaway topics)."""
    _registry[:] = [item for item in _registry if item[0] != pattern]


def registered():
    """[(pattern, handler_class)] of every registered topic, exact patterns first."""
    return list(_registry)


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


class SharedPayload(dict):
    """A push payload that Topic.reshape hands to many sockets: hub.fanout frames it once per process."""


class Topic:
    """One socket's membership of one topic (Phoenix's channel): `join`, `on_<event>`, `leave`.

    The consumer makes one instance per socket and topic when the client joins, and drops
    it when the client leaves or the socket closes. A second `join` of a joined topic replaces
    the instance with a fresh one, as Phoenix does with a duplicate join: the old one's
    `leave()` runs with `self.replaced` true (so it can leave in place what the new join
    redoes anyway, such as a presence track), the new one joins, and only then are the old
    one's subscriptions dropped, so the socket is never out of the topic's groups meanwhile.

    Subclasses list their client events in `events`, each handled by
    `async def on_<event>(self, payload)` returning the reply data (a dict) or raising a
    HubError; `register()` checks the two agree. Authorization belongs in `join`.
    Subscriptions made through `self.subscribe()` belong to the instance and are dropped
    when it stops, whatever `leave()` does. `conn` is the socket (hub.consumer.HubConsumer):
    handlers read its `user` and `conn_id`, and may call `is_joined(topic)` and
    `send_push(topic, event, payload)`; nothing else of it is theirs to touch.
    """

    events = ()
    # The push events on_push filters or reshapes, when it does so for only some (None: all of them).
    filtered_events = None
    # What an event weighs in the user's budget (hub.budget): {"join": 5, "history": 10}; 1 if
    # not listed. Weigh what makes the server work: database reads, big replies. `cost()` may
    # look at the payload (a join with `since` reads more).
    costs = {}
    replaced = False  # true while leave() runs because a duplicate join replaces this instance

    def __init__(self, conn, topic, suffix):
        self.conn = conn
        self.topic = topic
        self.suffix = suffix
        self.groups = set()

    @property
    def user(self):
        return self.conn.user

    @classmethod
    def cost(cls, event, payload):
        """The weight of one `event` ("join" included) with this payload; override to look at the payload."""
        return cls.costs.get(event, 1)

    # --- what subclasses write

    async def join(self, payload):
        """Authorize, subscribe and return the join reply data (raise a HubError to refuse)."""
        raise NotImplementedError

    async def leave(self):
        """Undo what `join` did besides subscribing (presence untrack, ...). Also runs when the socket closes.

        When `self.replaced` is true a fresh instance is joining the same topic for the same
        socket: skip undoing what its join redoes (a presence track: it would show a leave).
        """

    def filters(self, event):
        """Whether pushes of `event` go through on_push (else the same frame goes to every socket, hub.fanout).

        A topic that overrides on_push filters every event unless it names the ones it looks at
        in `filtered_events`.
        """
        if type(self).on_push is Topic.on_push:
            return False
        return self.filtered_events is None or event in self.filtered_events

    def reshape(self, event, payload):
        """Cut a push down for this socket, without I/O; return None to drop it. Called on every push.

        Unlike on_push it keeps the fast path (hub.fanout): return `payload` itself for the
        frame every socket gets, a SharedPayload handed to many sockets (framed once per
        process), or a dict for this socket alone; never change `payload` in place (it is
        shared by every socket of the process).
        """
        return payload

    async def shaped_push(self, event, payload, message):
        """What this socket is sent of a push on the queue path: reshape(), then on_push()."""
        payload = self.reshape(event, payload)
        return None if payload is None else await self.on_push(event, payload, message)

    async def on_push(self, event, payload, message):
        """Filter or reshape a push before it reaches this socket; return None to drop it.

        Return a new dict to reshape it: `payload` and `message` are shared by every
        socket of this process (hub.layers), so they must not be changed in place.
        """
        return payload

    # --- what subclasses call

    async def subscribe(self, group=None):
        """Receive the pushes sent to `group` (default: this topic's own group) until this instance stops."""
        group = group or topic_group(self.topic)
        if group not in self.groups:
            self.groups.add(group)
            await self.conn.subscriptions.add(group)

    async def unsubscribe(self, group):
        """Stop receiving `group` before the instance stops (a no-op if not subscribed)."""
        if group in self.groups:
            self.groups.discard(group)
            await self.conn.subscriptions.remove(group)

    # --- what the consumer calls

    async def start(self, payload):
        """Run `join`; if it fails, undo whatever it had done before re-raising."""
        try:
            return await self.join(payload)
        except BaseException:
            await self.stop()
            raise

    async def stop(self):
        """Run `leave`, then drop every subscription of this instance."""
        try:
            await self.leave()
        finally:
            await self.unsubscribe_all()

    async def unsubscribe_all(self):
        for group in list(self.groups):
            await self.unsubscribe(group)

    async def handle(self, event, payload):
        if event not in self.events:
            raise UnknownEvent(f"Topic {self.topic!r} has no event {event!r}.")
        return await getattr(self, f"on_{event}")(payload)


class JoinedTopics:
    """One socket's topic handlers by topic name, and the routing of its frames to them (Phoenix's socket)."""

    __slots__ = ("conn", "max_topics", "handlers")

    def __init__(self, conn, max_topics):
        self.conn = conn
        self.max_topics = max_topics
        self.handlers = {}

    def __contains__(self, topic):
        return topic in self.handlers

    def get(self, topic):
        return self.handlers.get(topic)

    async def route(self, topic, event, payload):
        """Handle one client frame of a registered topic: join, leave, or an event of a joined topic."""
        handler_class, suffix = lookup(topic)
        if handler_class is None:
            raise UnknownTopic(f"No topic {topic!r}.")
        if event != "leave":
            await budget.spend(self.conn.user.pk, handler_class.cost(event, payload))
        if event == "join":
            return await self.join(handler_class, topic, suffix, payload)
        if event == "leave":
            await self.leave(topic)  # leaving is idempotent
            return {}
        handler = self.handlers.get(topic)
        if handler is None:
            if event not in handler_class.events:
                raise UnknownEvent(f"Topic {topic!r} has no event {event!r}.")
            raise NotJoined(f"Join {topic!r} first.")
        return await handler.handle(event, payload)

    async def join(self, handler_class, topic, suffix, payload):
        """Start a fresh handler and return its join reply data; a joined topic's handler is replaced."""
        old = self.handlers.get(topic)
        if old is None and len(self.handlers) >= self.max_topics:
            raise BadRequest(f"A socket may join at most {self.max_topics} topics.")
        handler = handler_class(self.conn, topic, suffix)
        if old is not None:
            # Each join redoes its authorization and reads: re-joining in a loop is throttled per topic.
            handler.rejoins = old.rejoins
            wait = handler.rejoins.take()
            if wait:
                raise RateLimited(wait, f"{topic!r} was re-joined too often; it stays joined.")
            del self.handlers[topic]
        else:
            handler.rejoins = FrameBudget(app_settings.REJOINS_PER_TOPIC, app_settings.REJOIN_WINDOW_SECS)
        data = await (handler.start(payload) if old is None else self.replace(old, handler, payload))
        if self.conn.closed:
            await handler.stop()  # closed while joining (the watchdog): cleanup has run already
        else:
            self.handlers[topic] = handler
        return data

    async def replace(self, old, handler, payload):
        """A duplicate join: the old handler leaves as replaced, the new one joins, then the old one's
        subscriptions go (the new one holds them by then: no gap). If the new join fails, the socket
        is out of the topic, and the new handler's own stop undid what the old one left in place."""
        old.replaced = True
        try:
            await old.leave()
            return await handler.start(payload)
        finally:
            await old.unsubscribe_all()

    async def leave(self, topic):
        handler = self.handlers.pop(topic, None)
        if handler is not None:
            await handler.stop()

    async def stop_all(self):
        """The socket closed: stop every handler; one failing must not keep the others subscribed."""
        handlers, self.handlers = list(self.handlers.values()), {}
        for handler in handlers:
            try:
                await handler.stop()
            except Exception:
                logger.exception("leave of %s failed", handler.topic)

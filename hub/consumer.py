"""The one socket per tab: parse, limit, route to topic handlers, reply. No feature logic."""

import asyncio
import collections
import logging
import time
import uuid
from datetime import datetime, timezone

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from hub import connections, lifecycle, protocol
from hub.errors import (
    BadRequest, Forbidden, HubError, Internal, NotFound, NotJoined, RateLimited, TooLarge, UnknownEvent, UnknownTopic,
)
from hub.push import session_group, user_group
from hub.rates import TokenBucket, parse_rate
from hub.sessions import session_still_valid
from hub.topics import get_choice, lookup
from hub.users import user_dict

logger = logging.getLogger(__name__)

FLOOD_MAX_FAILURES = 50
FLOOD_WINDOW_SECS = 10.0
MAX_TOPICS_PER_SOCKET = 200
# Closing for a server-side failure: applications may only use 1000 or 3000-4999.
CLOSE_INTERNAL = 4500
STATUSES = ("online", "away")
ENCODED_FRAME_KEY = "hub.encoded_frame"


def utc_now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class HubConsumer(AsyncWebsocketConsumer):
    """One authenticated connection; the `conn` object topic handlers and lifecycle listeners see.

    Handlers use: `user`, `conn_id`, `status`, `subscribe(group)`, `unsubscribe(group)`,
    `send_push(topic, event, payload)`, `is_joined(topic)`.
    """

    async def dispatch(self, message):
        # Channels runs close_old_connections() in a worker thread before every message,
        # a thread hop per push per socket. Every database call here goes through
        # database_sync_to_async, which already does that in the thread it runs in.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused with HTTP 403
            return
        self.user = user
        self.conn_id = uuid.uuid4().hex
        self.session_key = self.scope["session"].session_key
        self.status = "online"
        self.topics = {}
        self.group_refs = collections.Counter()
        self.failures = collections.deque()
        self.closed = False
        self.registered = False
        self.last_frame = time.monotonic()
        self.last_activity_hook = self.last_frame
        self.frame_budget = TokenBucket(*parse_rate(settings.HUB_FRAME_RATE))
        self.watchdog = None
        await self.accept()
        await self.send_frame(protocol.push(protocol.HUB_TOPIC, "hello", {
            "protocol": protocol.PROTOCOL_VERSION,
            "conn": self.conn_id,
            "user": user_dict(user),
            "heartbeat": settings.HUB_HEARTBEAT,
            "server_time": utc_now_iso(),
        }))
        try:
            count = await connections.register(user.pk, self.conn_id, settings.HUB_PRESENCE_TTL)
            self.registered = True
            if count > settings.HUB_MAX_SOCKETS_PER_USER:
                await self.close_with(protocol.CLOSE_FLOODING)
                return
            await self.subscribe(user_group(user.pk))
            if self.session_key:
                await self.subscribe(session_group(self.session_key))
            await lifecycle.notify("connected", self)
        except Exception:
            logger.exception("could not set up connection %s", self.conn_id)
            await self.close_with(CLOSE_INTERNAL)
            return
        self.watchdog = asyncio.ensure_future(self.watch())

    async def receive(self, text_data=None, bytes_data=None):
        if self.closed:
            return
        self.last_frame = time.monotonic()
        ref, topic = None, protocol.HUB_TOPIC
        try:
            if text_data is None:
                raise BadRequest("Binary frames are not supported; send JSON text.")
            if len(text_data) > settings.HUB_MAX_FRAME:
                raise TooLarge(f"Frame is larger than {settings.HUB_MAX_FRAME} bytes.")
            try:
                frame = protocol.parse_frame(text_data)
            except BadRequest as error:
                topic, ref = error.topic, error.ref
                raise
            topic, ref = frame.topic, frame.ref
            await self.note_activity()
            if self.closed:
                return  # closed 4500 just now: Redis had lost this socket
            wait = self.frame_budget.take()
            if wait:
                # Answered, not handled; it counts as a failure, so a flood ends with 4429.
                raise RateLimited(wait, "Too many frames on this socket; slow down.")
            data = await self.route(frame)
            if ref is not None:
                await self.send_frame(protocol.ok_reply(topic, ref, data if data is not None else {}))
        except HubError as error:
            await self.fail(topic, ref, error)
        except Exception:
            logger.exception("handler failed on topic %r", topic)
            await self.fail(topic, ref, Internal("The server failed to handle this frame."))

    async def route(self, frame):
        """Send one frame to the hub itself or to its topic's handler; return the reply data."""
        if frame.topic == protocol.HUB_TOPIC:
            if frame.event != "heartbeat":
                raise UnknownEvent(f"Topic 'hub' has no event {frame.event!r}.")
            return await self.heartbeat(frame.payload)
        handler_class, suffix = lookup(frame.topic)
        if handler_class is None:
            raise UnknownTopic(f"No topic {frame.topic!r}.")
        handler = self.topics.get(frame.topic)
        if frame.event == "join":
            return await self.join(handler_class, frame, suffix, handler)
        if frame.event == "leave":
            if handler is not None:
                del self.topics[frame.topic]
                await handler.leave()
            return {}
        if handler is None:
            if frame.event not in handler_class.events:
                raise UnknownEvent(f"Topic {frame.topic!r} has no event {frame.event!r}.")
            raise NotJoined(f"Join {frame.topic!r} first.")
        return await handler.handle(frame.event, frame.payload)

    async def join(self, handler_class, frame, suffix, handler):
        if handler is None:
            if len(self.topics) >= MAX_TOPICS_PER_SOCKET:
                raise BadRequest(f"A socket may join at most {MAX_TOPICS_PER_SOCKET} topics.")
            handler = handler_class(self, frame.topic, suffix)
            try:
                data = await handler.join(frame.payload)
            except BaseException:
                await handler.leave()  # undo whatever the failed join subscribed
                raise
            self.topics[frame.topic] = handler
            return data
        try:
            return await handler.join(frame.payload)
        except (Forbidden, NotFound):
            # No longer allowed in (removed from a private room) or gone: out of the topic.
            del self.topics[frame.topic]
            await handler.leave()
            raise

    async def heartbeat(self, payload):
        status = get_choice(payload, "status", STATUSES, required=False)
        if status is not None:
            self.status = status
        if not await self.still_registered():
            return {}
        await lifecycle.notify("heartbeat", self, status)
        for handler in list(self.topics.values()):
            await handler.on_heartbeat(status)
        return {"server_time": utc_now_iso()}

    async def note_activity(self):
        """Any frame keeps presence alive; tell listeners at most twice per heartbeat interval."""
        now = time.monotonic()
        if now - self.last_activity_hook >= settings.HUB_HEARTBEAT / 2:
            self.last_activity_hook = now
            # The socket count entry too: a socket alive on other frames alone must keep
            # counting toward HUB_MAX_SOCKETS_PER_USER, not age out of it.
            if await self.still_registered():
                await lifecycle.notify("activity", self)

    async def still_registered(self):
        """Extend this socket's registration; close 4500 if Redis lost it (False)."""
        if await connections.refresh(self.user.pk, self.conn_id, settings.HUB_PRESENCE_TTL):
            return True
        # Redis lost this socket's record: it restarted (pushes sent meanwhile never
        # arrived) or the socket was expired as dead. Closing 4500 makes the client
        # reconnect and re-join with `since`, which recovers what it missed.
        logger.warning("connection %s is unknown to Redis; closing it so the client resumes", self.conn_id)
        await self.close_with(CLOSE_INTERNAL)
        return False

    async def fail(self, topic, ref, error):
        await self.send_frame(protocol.error_reply(topic, ref, error))
        now = time.monotonic()
        self.failures.append(now)
        while self.failures and now - self.failures[0] > FLOOD_WINDOW_SECS:
            self.failures.popleft()
        if len(self.failures) >= FLOOD_MAX_FAILURES:
            await self.close_with(protocol.CLOSE_FLOODING)

    # --- what handlers and listeners use

    def is_joined(self, topic):
        return topic in self.topics

    async def subscribe(self, group):
        if self.group_refs[group] == 0:
            await self.channel_layer.group_add(group, self.channel_name)
        self.group_refs[group] += 1

    async def unsubscribe(self, group):
        if self.group_refs[group] <= 0:
            return
        self.group_refs[group] -= 1
        if self.group_refs[group] == 0:
            del self.group_refs[group]
            await self.channel_layer.group_discard(group, self.channel_name)

    async def send_push(self, topic, event, payload):
        await self.send_frame(protocol.push(topic, event, payload))

    async def send_frame(self, message):
        await self.send_encoded(protocol.encode(message))

    async def send_encoded(self, text):
        if self.closed:
            return
        try:
            await self.send(text_data=text)
        except Exception as exc:
            # The client went away while this frame was on its way; the disconnect
            # event follows and cleans up. Not an application error.
            logger.debug("dropped a frame for closed connection %s: %s", getattr(self, "conn_id", "?"), exc)

    # --- layer events (type "hub.push" calls hub_push)

    async def hub_push(self, message):
        """A push for one topic: forwarded only if this socket joined it and its handler agrees."""
        handler = self.topics.get(message.get("topic"))
        if handler is None or self.closed:
            return
        try:
            payload = await handler.on_push(message["event"], message["payload"], message)
        except Exception:
            # A failing filter must cost this one push, not the socket.
            logger.exception("on_push of %s failed", handler.topic)
            return
        if payload is None:
            return
        if payload is message["payload"]:
            # Unchanged, so the same frame for every socket of this process (hub.layers hands
            # them all one decoded message): encode it once. The key cannot be a
            # push_message() extra, so it never collides with one.
            frame = message.get(ENCODED_FRAME_KEY)
            if frame is None:
                frame = message[ENCODED_FRAME_KEY] = protocol.encode(
                    protocol.push(message["topic"], message["event"], payload))
            await self.send_encoded(frame)
        else:
            await self.send_push(message["topic"], message["event"], payload)

    async def hub_close(self, message):
        """Close this socket (logout elsewhere sends this to the session's group)."""
        await self.close_with(message.get("code", protocol.CLOSE_SESSION_ENDED))

    # --- timers and teardown

    async def watch(self):
        """Close idle sockets (4408) and sockets whose session ended elsewhere (4401)."""
        ttl = settings.HUB_PRESENCE_TTL
        check_every = min(settings.HUB_SESSION_CHECK_SECS, 300)
        next_session_check = time.monotonic() + check_every
        try:
            while not self.closed:
                now = time.monotonic()
                idle_deadline = self.last_frame + ttl
                if now >= idle_deadline:
                    await self.close_with(protocol.CLOSE_IDLE)
                    return
                if now >= next_session_check:
                    next_session_check = now + check_every
                    try:
                        valid = await database_sync_to_async(session_still_valid)(self.session_key, self.user.pk)
                    except Exception as exc:
                        # The database is briefly away: keep the socket, ask again next time.
                        logger.warning("could not check the session of connection %s: %s", self.conn_id, exc)
                        valid = True
                    if not valid:
                        await self.close_with(protocol.CLOSE_SESSION_ENDED)
                        return
                await asyncio.sleep(max(0.05, min(idle_deadline, next_session_check) - now))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("watchdog of connection %s failed", self.conn_id)

    async def close_with(self, code):
        if self.closed:
            return
        await self.close(code)
        await self.cleanup()

    async def disconnect(self, code):
        if hasattr(self, "conn_id"):
            await self.cleanup()

    async def cleanup(self):
        """Leave every topic and tell listeners; safe to call twice (close, then disconnect)."""
        if self.closed:
            return
        self.closed = True
        current = asyncio.current_task()
        if self.watchdog is not None and self.watchdog is not current:
            self.watchdog.cancel()
        handlers, self.topics = list(self.topics.values()), {}
        for handler in handlers:
            try:
                await handler.leave()
            except Exception:
                logger.exception("leave of %s failed", handler.topic)
        try:
            await lifecycle.notify("disconnected", self)
            if self.registered:
                await connections.unregister(self.user.pk, self.conn_id)
            for group in list(self.group_refs):
                await self.channel_layer.group_discard(group, self.channel_name)
            self.group_refs.clear()
        except Exception:
            logger.exception("cleanup of connection %s failed", self.conn_id)

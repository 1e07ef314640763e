"""The one socket per tab: parse, limit, route to topic handlers, reply. No feature logic."""

import asyncio
import logging
import uuid

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from hub import app_settings, connections, counters, fanout, lifecycle, outbox, protocol
from hub.errors import HubError, Internal, RateLimited, UnknownEvent
from hub.guards import FloodWindow, FrameBudget, UserTurns, Watchdog
from hub.sessions import session_user
from hub.subscriptions import Subscriptions
from hub.topics import JoinedTopics

logger = logging.getLogger(__name__)
USER_TURNS = UserTurns()  # one per process: frames of one user in flight at once, across their sockets


class HubConsumer(AsyncWebsocketConsumer):
    """One authenticated connection: the `conn` that topic handlers and lifecycle listeners see. They read `user`
    and `conn_id` and may call `is_joined(topic)` and `send_push(...)`; `subscriptions` is for the Topic base class."""

    busy = layer_backlog = 0  # hub.fanout pushes straight to a socket only when both are 0: never out of order

    async def dispatch(self, message):
        # Channels runs close_old_connections() in a worker thread before every message, a thread hop per
        # push per socket; every database call here goes through database_sync_to_async, which does it too.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        with fanout.handling(self, message):
            await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            counters.count("handshakes_refused", "unauthenticated")
            await self.close()  # before accept: the handshake is refused with HTTP 403
            return
        self.user, self.conn_id = user, uuid.uuid4().hex
        self.session_key = self.scope["session"].session_key
        self.topics = JoinedTopics(self, app_settings.MAX_TOPICS_PER_SOCKET)
        self.subscriptions = Subscriptions(self.channel_layer, self.channel_name)
        self.closed = self.registered = False
        self.cleaned_up = None  # made by the first cleanup, for a second caller to wait on
        self.flood = FloodWindow(app_settings.FLOOD_MAX_FAILURES, app_settings.FLOOD_WINDOW_SECS)
        self.frame_budget = FrameBudget.from_rate(app_settings.FRAME_RATE)
        self.watchdog = Watchdog(
            idle_s=app_settings.PRESENCE_TTL_SECS, session_check_s=app_settings.SESSION_CHECK_SECS,
            refresh=self.refresh, close=self.close_with, check_session=self.reread_user)
        await self.accept()
        await self.send_frame(protocol.hello(self.conn_id, user, app_settings.HEARTBEAT_SECS))
        fanout.register(self)
        if await connections.open_socket(self):
            self.watchdog.start()

    async def receive(self, text_data=None, bytes_data=None):
        if self.closed:
            return
        self.watchdog.saw_frame()
        try:
            frame = protocol.parse_frame(text_data, app_settings.MAX_FRAME_BYTES)
        except HubError as error:
            await self.fail(error.topic, error.ref, error)
            return
        try:
            wait = self.frame_budget.take()
            if wait:
                # Answered, not handled; it counts as a failure, so a flood ends with 4429.
                raise RateLimited(wait, "Too many frames on this socket; slow down.")
            if (frame.is_heartbeat or self.watchdog.refresh_due()) and not await self.refresh():
                return  # closed 4500 just now: Redis had lost this socket
            async with USER_TURNS.turn(self.user.pk, app_settings.USER_FRAMES_IN_FLIGHT):
                data = await self.route(frame)
            if frame.ref is not None:
                await self.send_frame(protocol.ok_reply(frame.topic, frame.ref, {} if data is None else data))
        except HubError as error:
            await self.fail(frame.topic, frame.ref, error)
        except Exception:
            logger.exception("handler failed on topic %r", frame.topic)
            await self.fail(frame.topic, frame.ref, Internal("The server failed to handle this frame."))

    async def route(self, frame):
        """Send one frame to the hub itself or to its topic's handler; return the reply data."""
        if frame.topic == protocol.HUB_TOPIC:
            if frame.event != "heartbeat":
                raise UnknownEvent(f"Topic 'hub' has no event {frame.event!r}.")
            await lifecycle.heartbeat(self, frame.payload)
            return protocol.heartbeat_reply(outbox.resync_marker())
        return await self.topics.route(frame.topic, frame.event, frame.payload)

    async def refresh(self):
        """Extend the socket's registration, and through listeners its presence; False if Redis had lost it."""
        self.watchdog.refreshed()
        if not await connections.refresh(self.user.pk, self.conn_id, app_settings.PRESENCE_TTL_SECS):
            # Redis restarted (pushes sent meanwhile never arrived) or expired this socket as
            # dead: closing 4500 makes the client reconnect and re-join with `since`.
            logger.warning("connection %s is unknown to Redis; closing it so the client resumes", self.conn_id)
            await self.close_with(protocol.CLOSE_RESUME)
            return False
        await lifecycle.notify("activity", self)
        return True

    async def reread_user(self):
        """Re-read the user behind the session (their rights may have changed); False once it no longer holds."""
        user = await database_sync_to_async(session_user)(self.session_key, self.user.pk)
        self.user = user or self.user
        return user is not None

    async def fail(self, topic, ref, error):
        await self.send_frame(protocol.error_reply(topic, ref, error))
        if self.flood.add():
            await self.close_with(protocol.CLOSE_FLOODING)

    # --- what handlers and listeners use

    def is_joined(self, topic):
        return topic in self.topics

    async def send_push(self, topic, event, payload):
        counters.count("frames_out", counters.topic_label(topic), event)
        await self.send_frame(protocol.push(topic, event, payload))

    async def send_frame(self, message):
        await self.send_encoded(protocol.encode(message))

    async def send_encoded(self, text, droppable=False):
        if self.closed:
            return
        try:
            # A droppable frame may be skipped by the server for a socket that is behind (hub.daphne_limits).
            await self.base_send({"type": "websocket.send", "text": text, **({protocol.DROPPABLE_KEY: True} if droppable else {})})
        except Exception as exc:
            # The client went away while this frame was on its way; the disconnect event cleans up.
            logger.debug("dropped a frame for closed connection %s: %s", getattr(self, "conn_id", "?"), exc)

    # --- layer events (type "hub.push" calls hub_push)

    async def hub_push(self, message):
        """A push for one topic: forwarded only if this socket joined it and its handler agrees."""
        handler = self.topics.get(message.get("topic"))
        if handler is None or self.closed:
            return
        try:
            payload = await handler.shaped_push(message["event"], message["payload"], message)
        except Exception:
            logger.exception("on_push of %s failed", handler.topic)  # costs this one push, not the socket
            return
        if payload is not None:
            await fanout.send_queued(self, message, payload)
        if message.get("then_leave"):
            await self.topics.leave(message["topic"])

    async def hub_user_changed(self, message):
        """The user's rights, groups or password changed elsewhere: re-read them now, or close 4401."""
        if not await self.reread_user():
            await self.close_with(protocol.CLOSE_SESSION_ENDED)
            return
        await lifecycle.notify("user_changed", self)

    async def hub_close(self, message):
        """Close this socket (logout elsewhere, or the layer asking every socket to resume)."""
        await self.close_with(message.get("code", protocol.CLOSE_SESSION_ENDED))

    # --- teardown

    async def close_with(self, code):
        if not self.closed:
            await self.close(code)
            await self.cleanup()

    async def disconnect(self, code):
        if hasattr(self, "conn_id"):
            await self.cleanup()

    async def cleanup(self):
        """Stop every handler and tell listeners, once. A second caller (the client's disconnect while
        the watchdog closes the socket) waits for the first: the consumer never ends mid-cleanup."""
        if self.closed:
            if self.cleaned_up is not None:
                await asyncio.shield(self.cleaned_up)
            return
        self.closed = True
        fanout.unregister(self)
        self.cleaned_up = asyncio.get_running_loop().create_future()
        try:
            self.watchdog.stop()
            await self.topics.stop_all()
            await lifecycle.notify("disconnected", self)
            if self.registered:
                await connections.unregister(self.user.pk, self.conn_id)
            await self.subscriptions.clear()
        except Exception:
            logger.exception("cleanup of connection %s failed", self.conn_id)
        finally:
            self.cleaned_up.set_result(None)

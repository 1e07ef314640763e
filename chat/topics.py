"""The `chat` topic (the user's rooms) and `room:<slug>` topics (one chat room each)."""

import time

from channels.db import database_sync_to_async

from chat import ratelimit, selectors, services
from chat.models import CLIENT_ID_MAX_LENGTH
from chat.serializers import message_dict, room_dict
from hub.errors import BadRequest, Forbidden, NotFound, RateLimited
from hub.push import topic_group
from hub.redis import get_async_redis, key
from hub.topics import Topic, get_bool, get_int, get_list, get_str
from hub.users import user_dict
from presence import api as presence

TYPING_RELAYS_PER_SEC = 4
# New rooms per user, across tabs and processes: enough for people, not for a script filling the database.
ROOM_CREATE_RATE = "30/1h"


class ChatTopic(Topic):
    """The lobby: rooms with unread counts, kept live per socket.

    Each socket counts unread itself from one lobby push per message (no per-member
    database work per message), and only tells the client about rooms it has not joined.
    """

    events = ("open_dm", "create")

    async def join(self, payload):
        rooms = await database_sync_to_async(selectors.rooms_for_user)(user=self.user)
        slugs = await database_sync_to_async(selectors.member_room_slugs)(user=self.user)
        self.unread = {room["slug"]: room["unread"] for room in rooms}
        before, now = getattr(self, "lobbies", set()), set(slugs)
        for slug in now - before:
            await self.conn.subscribe(services.lobby_group(slug))
        for slug in before - now:  # no longer a member (removed by staff): no more counts
            await self.conn.unsubscribe(services.lobby_group(slug))
        self.lobbies = now
        return {"rooms": rooms}

    async def leave(self):
        for slug in getattr(self, "lobbies", set()):
            await self.conn.unsubscribe(services.lobby_group(slug))
        self.lobbies = set()

    async def on_push(self, event, payload, message):
        if event == "_room_message":
            slug = payload["room"]
            if payload["author_id"] == self.user.pk or self.conn.is_joined(f"room:{slug}"):
                return None
            self.unread[slug] = self.unread.get(slug, 0) + 1
            await self.conn.send_push(self.topic, "unread", {
                "room": slug, "unread": self.unread[slug], "last_message_id": payload["message_id"]})
            return None
        if event == "unread":
            self.unread[payload["room"]] = payload["unread"]
            return None if self.conn.is_joined(f"room:{payload['room']}") else payload
        if event == "room":
            slug = payload["room"]["slug"]
            if slug not in self.lobbies:
                self.lobbies.add(slug)
                await self.conn.subscribe(services.lobby_group(slug))
        return payload

    async def on_open_dm(self, payload):
        username = get_str(payload, "username", max_length=150)
        room, _ = await database_sync_to_async(services.dm_open)(user=self.user, username=username)
        return {"room": await database_sync_to_async(_room_for)(room, self.user)}

    async def on_create(self, payload):
        name = get_str(payload, "name", max_length=100)
        private = get_bool(payload, "private", required=False, default=False)
        members = get_list(payload, "members", item_type=str, max_items=services.MAX_MEMBERS_AT_CREATE,
                           required=False, default=[])
        retry_after = await ratelimit.hit(self.user.pk, bucket="chat-create", rate=ROOM_CREATE_RATE)
        if retry_after:
            raise RateLimited(retry_after, "Too many new rooms; wait a while.")
        room = await database_sync_to_async(services.room_create)(
            creator=self.user, name=name, private=private, member_usernames=members)
        return {"room": await database_sync_to_async(_room_for)(room, self.user)}


def _room_for(room, user):
    members = selectors.room_members(room=room) if room.kind == "direct" else None
    return room_dict(room, user, unread=selectors.room_unread(room=room, user=user),
                     last_message_id=selectors.room_last_message_id(room=room), members=members)


def _join_room(room, user, since):
    if room.kind == "public":
        services.membership_ensure(room=room, user=user)
    if since is None:
        messages, more = selectors.messages_before(room=room)
        more = False  # without `since`, `more` is about gaps, not older history
    else:
        messages, more = selectors.messages_since(room=room, since=since)
    return {"room": _room_for(room, user), "messages": [message_dict(m) for m in messages], "more": more}


class RoomTopic(Topic):
    """`room:<slug>`: authorization at join; subscribe first, then read, so nothing falls in between."""

    events = ("send", "history", "typing", "read", "edit", "delete")

    async def join(self, payload):
        since = get_int(payload, "since", required=False)
        room = await database_sync_to_async(selectors.room_get)(slug=self.suffix)
        if room is None:
            raise NotFound(f"No room {self.suffix!r}.")
        if not await database_sync_to_async(selectors.room_can_join)(room=room, user=self.user):
            raise Forbidden("This room is private.")
        self.room = room
        if not getattr(self, "subscribed", False):
            await self.conn.subscribe(topic_group(self.topic))
            self.subscribed = True
        await presence.track(self.conn, self.topic)
        data = await database_sync_to_async(_join_room)(room, self.user, since)
        data["present"] = await presence.list_present(self.topic)
        return data

    async def leave(self):
        if getattr(self, "subscribed", False):
            await self.conn.unsubscribe(topic_group(self.topic))
            self.subscribed = False
            await presence.untrack(self.conn, self.topic)

    async def on_push(self, event, payload, message):
        if message.get("exclude_conn") == self.conn.conn_id:
            return None
        if event == "typing" and payload["user"]["id"] == self.user.pk:
            return None  # "ann is typing…" is for the others, not for ann's other tabs
        return payload

    async def on_send(self, payload):
        body = services.clean_body(payload.get("body"))
        client_id = get_str(payload, "client_id", required=False, max_length=CLIENT_ID_MAX_LENGTH)
        retry_after = await ratelimit.hit(self.user.pk)
        if retry_after:
            raise RateLimited(retry_after, "Too many messages; wait a moment.")
        message, created = await database_sync_to_async(services.message_send)(
            room=self.room, author=self.user, body=body, client_id=client_id)
        if created and (self.room.kind == "direct" or "@" in body):
            # Who is looking matters only in a direct room (two people): never list a big room.
            present = ({entry["id"] for entry in await presence.list_present(self.topic)}
                       if self.room.kind == "direct" else set())
            await database_sync_to_async(services.mention_notify)(message=message, present_user_ids=present)
        return {"message": message_dict(message)}

    async def on_history(self, payload):
        before = get_int(payload, "before", required=False)
        limit = get_int(payload, "limit", required=False, minimum=1, maximum=100, default=50)
        messages, _ = await database_sync_to_async(selectors.messages_before)(room=self.room, before=before, limit=limit)
        return {"messages": [message_dict(m) for m in messages]}

    async def on_typing(self, payload):
        typing = get_bool(payload, "typing")
        # A few relays per second per user, across tabs and processes; extra ones are dropped quietly.
        slot = key("typing", self.room.pk, self.user.pk, int(time.time() * TYPING_RELAYS_PER_SEC))
        if await get_async_redis().set(slot, 1, nx=True, px=2000):
            from hub.push import agroup_send_many, push_message

            await agroup_send_many([topic_group(self.topic)], push_message(
                self.topic, "typing", {"user": user_dict(self.user), "typing": typing}, exclude_conn=self.conn.conn_id))
        return {}

    async def on_read(self, payload):
        up_to = get_int(payload, "up_to", minimum=0)
        marker = await database_sync_to_async(services.read_marker_move)(
            room=self.room, user=self.user, up_to=up_to, conn_id=self.conn.conn_id)
        return {"up_to": marker}

    async def on_edit(self, payload):
        message_id = get_int(payload, "id")
        body = payload.get("body")
        message = await database_sync_to_async(services.message_edit)(
            room=self.room, user=self.user, message_id=message_id, body=body)
        return {"message": message_dict(message)}

    async def on_delete(self, payload):
        message_id = get_int(payload, "id")
        message = await database_sync_to_async(services.message_delete)(
            room=self.room, user=self.user, message_id=message_id)
        return {"message": message_dict(message)}

"""The `chat` topic (the user's rooms) and `room:<slug>` topics (one chat room each)."""

from datetime import datetime

from channels.db import database_sync_to_async
from django.utils import timezone

from chat import app_settings, selectors, services
from chat.serializers import message_dict
from hub import app_settings as hub_settings
from hub.errors import BadRequest
from hub.protocol import iso
from hub.payload import get_bool, get_int, get_list, get_str, get_time
from hub.topics import Topic
from hub.users import user_dict
from presence import api as presence


def _time(text):
    """An ISO-8601 time of the protocol (a trailing Z) as an aware datetime; None stays None."""
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


class ChatTopic(Topic):
    """The lobby: rooms with unread counts, kept live per socket.

    Each socket counts unread itself from one lobby push per message (no per-member
    database work per message), and only tells the client about rooms it has not joined.
    """

    events = ("open_dm", "create", "leave_room")
    costs = {"join": 5}  # every room of the user with its unread count: a few queries

    async def join(self, payload):
        # Subscribe, then read, so no message falls between the two (as in rooms); one that
        # comes both in the read and as a push is counted once, by its id.
        for slug in await database_sync_to_async(selectors.member_room_slugs)(user=self.user):
            await self.subscribe(services.lobby_group(slug))
        rooms = await database_sync_to_async(selectors.rooms_for_user)(user=self.user)
        self.unread = {room["slug"]: room["unread"] for room in rooms}
        self.muted = {room["slug"]: _time(room["muted_until"]) for room in rooms if room["muted"]}
        self.last_ids = {room["slug"]: room["last_message_id"] or 0 for room in rooms}  # as of the read
        return {"rooms": rooms}

    async def on_push(self, event, payload, message):
        if event == "_room_message":
            slug = payload["room"]
            if payload["message_id"] <= self.last_ids.get(slug, 0):
                return None  # counted in the join's read already
            if payload["author_id"] == self.user.pk or self.conn.is_joined(f"room:{slug}"):
                return None
            self.unread[slug] = self.unread.get(slug, 0) + 1
            if self._muted(slug):
                return None  # counted, not bumped: the next join shows the count
            await self.conn.send_push(self.topic, "unread", {
                "room": slug, "unread": self.unread[slug], "last_message_id": payload["message_id"]})
            return None
        if event == "unread":
            self.unread[payload["room"]] = payload["unread"]
            return None if self.conn.is_joined(f"room:{payload['room']}") else payload
        if event == "room":
            room = payload["room"]
            await self.subscribe(services.lobby_group(room["slug"]))  # a new member: count it too
            if room["muted"]:
                self.muted[room["slug"]] = _time(room["muted_until"])
            else:
                self.muted.pop(room["slug"], None)
        if event == "removed":  # left, removed, or a direct room hidden: no more counting
            await self.unsubscribe(services.lobby_group(payload["room"]))
            self.unread.pop(payload["room"], None)
        return payload

    def _muted(self, slug):
        if slug not in self.muted:
            return False
        until = self.muted[slug]
        if until is None or until > timezone.now():
            return True
        del self.muted[slug]
        return False

    async def on_open_dm(self, payload):
        username = get_str(payload, "username", max_length=hub_settings.USERNAME_MAX_LENGTH)
        room, _ = await services.dm_open_limited(user=self.user, username=username)
        return {"room": await database_sync_to_async(selectors.room_for_user)(room=room, user=self.user)}

    async def on_create(self, payload):
        private = get_bool(payload, "private", required=False, default=False)
        members = get_list(payload, "members", item_type=str, max_items=app_settings.MAX_MEMBERS_AT_CREATE,
                           required=False, default=[])
        room = await services.room_create_limited(
            creator=self.user, name=payload.get("name"), private=private, member_usernames=members)
        return {"room": await database_sync_to_async(selectors.room_for_user)(room=room, user=self.user)}

    async def on_leave_room(self, payload):
        slug = get_str(payload, "room", max_length=app_settings.ROOM_SLUG_MAX_LENGTH)
        room = await database_sync_to_async(selectors.room_visible_to)(slug=slug, user=self.user)
        await database_sync_to_async(services.room_leave)(room=room, user=self.user)
        return {"room": slug}


class RoomTopic(Topic):
    """`room:<slug>`: authorization at join; subscribe first, then read, so nothing falls in between."""

    events = ("send", "history", "typing", "read", "edit", "delete", "remove", "mute", "members")
    filtered_events = ("read", "typing")  # messages, edits and deletes go to every socket alike
    # A page of up to 100 messages (~400 KB); a join reads the newest 50, or with `since` up to 100.
    # `members`: one query over the room's memberships per keystroke of an @name being typed.
    costs = {"join": 5, "history": 10, "members": 2}

    @classmethod
    def cost(cls, event, payload):
        if event == "join" and isinstance(payload, dict) and (
                payload.get("since") is not None or payload.get("since_seq") is not None):
            return 10
        return super().cost(event, payload)

    async def join(self, payload):
        since = get_int(payload, "since", required=False)
        since_seq = get_int(payload, "since_seq", required=False, minimum=0)
        since_change = get_int(payload, "since_change", required=False, minimum=0)
        if since_change is not None and since_seq is None:
            raise BadRequest("`since_change` needs `since_seq`: the changes are to the messages up to it.")
        # A private or direct room the user may not see answers as one that does not exist.
        self.room = room = await database_sync_to_async(selectors.room_visible_to)(slug=self.suffix, user=self.user)
        await self.subscribe()
        await presence.track(self.conn, self.topic)
        data = await database_sync_to_async(services.room_join)(room=room, user=self.user, since=since,
                                                                since_seq=since_seq, since_change=since_change)
        # A big room is told as a count (HUB_PRESENCE_LIST_MAX): a list of thousands per join is what does not scale.
        present = await presence.present_page(self.topic)
        data.update(present=[] if present["more"] else present["users"], present_count=present["count"],
                    present_more=present["more"])
        return data

    async def leave(self):
        if not self.replaced:  # a fresh handler of this room keeps the socket tracked (no leave shown)
            await presence.untrack(self.conn, self.topic)

    async def on_push(self, event, payload, message):
        if message.get("exclude_conn") == self.conn.conn_id:
            return None
        if event == "typing" and payload["user"]["id"] == self.user.pk:
            return None  # "ann is typing…" is for the others, not for ann's other tabs
        return payload

    async def on_send(self, payload):
        client_id = get_str(payload, "client_id", required=False, max_length=app_settings.CLIENT_ID_MAX_LENGTH)
        message = await services.message_post(room=self.room, author=self.user, body=payload.get("body"),
                                              client_id=client_id)
        return {"message": message_dict(message)}

    async def on_history(self, payload):
        before = get_int(payload, "before", required=False)
        limit = get_int(payload, "limit", required=False, minimum=1, maximum=app_settings.HISTORY_MAX_LIMIT,
                        default=app_settings.JOIN_NEWEST)
        messages = await database_sync_to_async(services.room_history)(
            room=self.room, user=self.user, before=before, limit=limit)
        return {"messages": [message_dict(m) for m in messages]}

    async def on_typing(self, payload):
        typing = get_bool(payload, "typing")
        await services.typing_relay(room=self.room, user=self.user, typing=typing, conn_id=self.conn.conn_id)
        return {}

    async def on_read(self, payload):
        up_to = get_int(payload, "up_to", minimum=0)
        marker = await database_sync_to_async(services.read_marker_move)(
            room=self.room, user=self.user, up_to=up_to, conn_id=self.conn.conn_id)
        return {"up_to": marker}

    async def on_edit(self, payload):
        await services.chat_write_allowed(self.user)
        message = await database_sync_to_async(services.message_edit)(
            room=self.room, user=self.user, message_id=get_int(payload, "id"), body=payload.get("body"))
        return {"message": message_dict(message)}

    async def on_delete(self, payload):
        await services.chat_write_allowed(self.user)
        message = await database_sync_to_async(services.message_delete)(
            room=self.room, user=self.user, message_id=get_int(payload, "id"))
        return {"message": message_dict(message)}

    async def on_remove(self, payload):
        username = get_str(payload, "username", max_length=hub_settings.USERNAME_MAX_LENGTH)
        removed = await database_sync_to_async(services.member_remove)(room=self.room, by=self.user, username=username)
        return {"username": removed.username}

    async def on_members(self, payload):
        prefix = get_str(payload, "prefix", max_length=hub_settings.USERNAME_MAX_LENGTH, allow_empty=True)
        users = await database_sync_to_async(services.member_suggestions)(room=self.room, user=self.user,
                                                                          prefix=prefix)
        return {"members": [user_dict(user) for user in users]}

    async def on_mute(self, payload):
        muted, until = get_bool(payload, "muted"), get_time(payload, "until")
        membership = await database_sync_to_async(services.room_mute)(
            room=self.room, user=self.user, muted=muted, until=until)
        return {"muted": membership.is_muted(), "until": iso(membership.muted_until)}

"""The `notifications` topic (the user's own) and the `announcements` topic (site-wide)."""

from channels.db import database_sync_to_async

from hub.errors import NotFound
from hub.payload import get_choice, get_int, get_list, get_str, get_time
from hub.topics import Topic
from notifications import app_settings, preferences, selectors, services
from notifications.serializers import announcement_dict, notification_dict


def _items(rows):
    """NOTIFICATIONs of these rows, the actors of grouped ones read in one query."""
    return [notification_dict(n) for n in selectors.attach_actors(list(rows))]


def _join_notifications(user, since, since_seq=None):
    return {**_joined_items(user, since, since_seq), "preferences": preferences.preferences_of(user=user)}


def _joined_items(user, since, since_seq):
    unread = selectors.notification_unread_count(user=user)
    if since_seq is not None:
        rows, more = selectors.notifications_since_seq(user=user, since_seq=since_seq)
        # What the client has may have been read meanwhile (in another tab, by read_all): these are not.
        unread_ids, more_unread = selectors.notification_unread_ids_up_to(user=user, up_to_seq=since_seq)
        return {"unread": unread, "items": _items(rows), "more": more or more_unread,
                "unread_ids": unread_ids}
    if since is None:
        return {"unread": unread, "items": _items(selectors.notifications_newest(user=user)),
                "more": False}
    rows, more = selectors.notifications_since(user=user, since=since)
    return {"unread": unread, "items": _items(rows), "more": more}


def _list(user, before, limit):
    return {"items": _items(selectors.notifications_newest(user=user, before=before, limit=limit))}


class NotificationsTopic(Topic):
    """Pushes arrive through the user's own group; only the user's rows are ever read or marked."""

    events = ("read", "read_all", "list")
    # Pages of up to 100 rows (a join also reads the preferences); read_all updates every unread row.
    costs = {"join": 6, "list": 5, "read_all": 5}

    async def join(self, payload):
        since = get_int(payload, "since", required=False)
        since_seq = get_int(payload, "since_seq", required=False, minimum=0)
        return await database_sync_to_async(_join_notifications)(self.user, since, since_seq)

    async def on_read(self, payload):
        ids = get_list(payload, "ids", item_type=int, max_items=app_settings.READ_IDS_MAX)
        unread, read_ids = await database_sync_to_async(services.notification_mark_read)(user=self.user, ids=ids)
        return {"unread": unread, "read_ids": read_ids}

    async def on_read_all(self, payload):
        await database_sync_to_async(services.notification_mark_all_read)(user=self.user)
        return {"unread": 0, "read_ids": "all"}

    async def on_list(self, payload):
        before = get_int(payload, "before", required=False)
        limit = get_int(payload, "limit", required=False, minimum=1, maximum=app_settings.LIST_MAX_LIMIT,
                        default=app_settings.JOIN_NEWEST)
        return await database_sync_to_async(_list)(self.user, before, limit)


class AnnouncementsTopic(Topic):
    """Everyone who joined hears new announcements of their audience; staff may publish.

    Someone who turned announcements off (/settings/notifications/) sees only critical ones; `refresh`
    (pushed to them when they change that) carries the whole list again and the new choice.
    """

    events = ("dismiss", "publish")
    filtered_events = ("new", "updated", "refresh")  # an audience of staff or a group: checked per socket
    off = False

    async def on_push(self, event, payload, message):
        if event == "refresh":
            self.off = payload["off"]
            return payload
        announcement = payload.get("announcement")
        if announcement is None:
            return payload
        if self.off and announcement["level"] != "critical":
            return None
        if announcement["audience"] in ("all", "online"):
            return payload
        if await database_sync_to_async(selectors.in_audience)(
                user=self.user, audience=announcement["audience"], group_name=announcement["audience_group"]):
            return payload
        return None

    async def join(self, payload):
        get_int(payload, "since", required=False)  # validated; the active set already holds newer ones
        await self.subscribe()
        self.off, items = await database_sync_to_async(preferences.announcements_shown)(user=self.user)
        return {"items": items}

    async def on_dismiss(self, payload):
        announcement_id = get_int(payload, "id")
        found = await database_sync_to_async(services.announcement_dismiss)(
            user=self.user, announcement_id=announcement_id)
        if not found:
            raise NotFound("No such active announcement.")
        return {"id": announcement_id}

    async def on_publish(self, payload):
        title = get_str(payload, "title", max_length=app_settings.TITLE_MAX_LENGTH)
        body = get_str(payload, "body", max_length=app_settings.BODY_MAX_LENGTH)
        level = get_choice(payload, "level", app_settings.ANNOUNCEMENT_LEVELS, required=False, default="info")
        expires_at = get_time(payload, "expires_at")
        publish_at = get_time(payload, "publish_at")
        audience = get_choice(payload, "audience", ("all", "staff", "online"), required=False, default="all")
        announcement = await database_sync_to_async(services.announcement_publish)(
            user=self.user, title=title, body=body, level=level, expires_at=expires_at, audience=audience,
            publish_at=publish_at)
        return {"announcement": announcement_dict(announcement)}

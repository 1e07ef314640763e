"""The site-wide `presence` topic: who is online, live diffs, status, queries, watched users."""

from hub import app_settings as hub_settings
from hub.payload import get_list
from hub.topics import Topic
from presence import app_settings, services


class PresenceTopic(Topic):
    """Joining subscribes to the diffs; the socket itself is tracked from connect to close.

    While the site set is large (above HUB_PRESENCE_LIST_MAX users) the join answers a count and
    a first page, and each diff reaching this socket keeps only the users it watches (`watch`).
    """

    events = ("set", "query", "watch")
    # The join reply lists everyone online (up to HUB_PRESENCE_LIST_MAX); query and watch read up to 200 users.
    costs = {"join": 10, "query": 5, "watch": 5}

    def __init__(self, *args):
        super().__init__(*args)
        self.watched = frozenset()  # user ids

    async def join(self, payload):
        await self.subscribe()
        return await services.present_page(services.SITE_SET)

    async def on_set(self, payload):
        status = services.status_from(payload, required=True)
        await services.connection_status_set(self.conn, status)
        return {"status": status}

    async def on_query(self, payload):
        return {"users": await services.presence_query(usernames=self._usernames(payload))}

    async def on_watch(self, payload):
        """Watch these users (replacing the list): large-set diffs keep them; answers their presence now."""
        users = await services.presence_query(usernames=self._usernames(payload))
        self.watched = frozenset(user["id"] for user in users)
        return {"users": users}

    def reshape(self, event, payload):
        if event != services.SITE_EVENT or not payload.get("more"):
            return payload
        return services.watched_part(payload, self.watched)

    def _usernames(self, payload):
        return get_list(payload, "users", item_type=str, max_items=app_settings.QUERY_MAX_USERS,
                        max_item_length=hub_settings.USERNAME_MAX_LENGTH)

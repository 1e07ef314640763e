"""The site-wide `presence` topic: who is online, live diffs, status, queries."""

from hub import app_settings as hub_settings
from hub.payload import get_list
from hub.topics import Topic
from presence import api, app_settings, services


class PresenceTopic(Topic):
    """Joining subscribes to the diffs; the socket itself is tracked from connect to close."""

    events = ("set", "query")
    # The join reply lists everyone online (up to thousands); a query reads up to 200 users.
    costs = {"join": 10, "query": 5}

    async def join(self, payload):
        await self.subscribe()
        return {"users": await api.list_present(services.SITE_SET)}

    async def on_set(self, payload):
        status = services.status_from(payload, required=True)
        await services.connection_status_set(self.conn, status)
        return {"status": status}

    async def on_query(self, payload):
        usernames = get_list(payload, "users", item_type=str, max_items=app_settings.QUERY_MAX_USERS,
                             max_item_length=hub_settings.USERNAME_MAX_LENGTH)
        return {"users": await services.presence_query(usernames=usernames)}

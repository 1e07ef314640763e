"""The site-wide `presence` topic: who is online, live diffs, status, queries."""

from hub.errors import BadRequest
from hub.push import topic_group
from hub.topics import Topic, get_choice, get_list
from presence import api, services

MAX_QUERY_USERS = 200


class PresenceTopic(Topic):
    """Joining subscribes to the diffs; the socket itself is tracked from connect to close."""

    events = ("set", "query")

    subscribed = False

    async def join(self, payload):
        if not self.subscribed:  # a re-join answers afresh; one subscription is enough
            await self.conn.subscribe(topic_group(self.topic))
            self.subscribed = True
        return {"users": await api.list_present(services.SITE_SET)}

    async def leave(self):
        if self.subscribed:
            await self.conn.unsubscribe(topic_group(self.topic))
            self.subscribed = False

    async def on_set(self, payload):
        status = get_choice(payload, "status", ("online", "away"))
        self.conn.status = status  # the consumer's own record, as a heartbeat's status sets it
        await services.connection_status_set(self.conn, status)
        return {"status": status}

    async def on_query(self, payload):
        usernames = get_list(payload, "users", item_type=str, max_items=MAX_QUERY_USERS)
        if any(len(name) > 150 for name in usernames):
            raise BadRequest("A username is at most 150 characters.")
        return {"users": await services.presence_query(usernames=usernames)}

"""The site-wide `presence` topic: who is online, live diffs, status, queries."""

from channels.db import database_sync_to_async

from hub.errors import BadRequest
from hub.push import topic_group
from hub.topics import Topic, get_choice, get_list
from hub.users import user_dict
from presence import api, selectors, services, store

MAX_QUERY_USERS = 200


class PresenceTopic(Topic):
    """Joining subscribes to the diffs; the socket itself is tracked from connect to close."""

    events = ("set", "query")

    async def join(self, payload):
        await self.conn.subscribe(topic_group(self.topic))
        return {"users": await api.list_present(services.SITE_SET)}

    async def leave(self):
        await self.conn.unsubscribe(topic_group(self.topic))

    async def on_set(self, payload):
        status = get_choice(payload, "status", ("online", "away"))
        self.conn.status = status
        await services.publish(await store.set_status(self.conn.conn_id, status))
        return {"status": status}

    async def on_query(self, payload):
        usernames = get_list(payload, "users", item_type=str, max_items=MAX_QUERY_USERS)
        if any(len(name) > 150 for name in usernames):
            raise BadRequest("A username is at most 150 characters.")
        users = await database_sync_to_async(selectors.users_by_username)(usernames=set(usernames))
        ids = [user.pk for user in users]
        statuses = await store.statuses(services.SITE_SET, ids)
        offline = [uid for uid in ids if statuses.get(uid, "offline") == "offline"]
        seen = await store.last_seen(offline)
        missing = [uid for uid in offline if uid not in seen]
        if missing:
            from_db = await database_sync_to_async(selectors.last_seen_map)(user_ids=missing)
            seen.update({uid: services.iso(at) for uid, at in from_db.items()})
        return {"users": [
            services.presence_entry(
                user_dict(user), statuses.get(user.pk, "offline"),
                seen.get(user.pk) if statuses.get(user.pk, "offline") == "offline" else None,
            )
            for user in sorted(users, key=lambda u: u.username)
        ]}

"""The generic presence API any topic can use (in the spirit of Phoenix.Presence).

    await track(conn, "room:general")          # this socket is present in the set
    await untrack(conn, "room:general")
    await list_present("room:general")         # [USER + status (+ metas)]

Diffs `{"joins", "leaves", "updates"}` of PRESENCE entries are pushed on the set's
topic (event `event`, default "presence") to `hub.push.topic_group(topic)`, coalesced
over a short window; a socket that joined the topic and subscribed to that group
receives them. Entries of sockets whose server died expire with the presence TTL.
"""

from django.conf import settings

from hub.users import user_dict
from presence import services, store


async def track(conn, topic, *, meta=None, event="presence"):
    """Track this socket in the presence set named `topic` (meta: a small JSON-able dict)."""
    changes = await store.track(
        topic, conn.conn_id, user=user_dict(conn.user), status=conn.status,
        ttl_s=settings.HUB_PRESENCE_TTL, meta=meta, event=event,
    )
    await services.publish(changes)


async def untrack(conn, topic):
    """Stop tracking this socket in the set (a no-op if it was not tracked)."""
    await services.publish(await store.untrack(topic, conn.conn_id))


async def list_present(topic):
    """Users with at least one tracked socket in the set: USER + "status" (+ "metas")."""
    return [
        services.presence_entry(user, status, None, metas)
        for user, status, metas in await store.list_set(topic)
    ]

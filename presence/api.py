"""The generic presence API any topic can use (in the spirit of Phoenix.Presence).

    await track(conn, "room:general")          # this socket is present in the set
    await untrack(conn, "room:general")
    await list_present("room:general")         # [USER + status + last_seen (+ metas)]

Diffs `{"joins", "leaves", "updates"}` of PRESENCE entries are pushed on the set's
topic (event `event`, default "presence") to `hub.push.topic_group(topic)`, coalesced
over a short window; a socket that joined the topic and subscribed to that group
receives them. A socket is removed from every set when it closes, and entries of
sockets whose server died expire with the presence TTL.
"""

from hub import app_settings as hub_settings
from presence import services, store


async def track(conn, topic, *, meta=None, event="presence"):
    """Track this socket in the presence set named `topic` (meta: a small JSON-able dict).

    Tracking a socket again replaces its meta and is not a join.
    """
    changes = await store.track(
        topic, conn.conn_id, user=services.conn_user(conn), status=services.connection_status(conn),
        ttl_s=hub_settings.PRESENCE_TTL_SECS, meta=meta, event=event,
    )
    await services.publish(changes)


async def untrack(conn, topic):
    """Stop tracking this socket in the set (a no-op if it was not tracked)."""
    await services.publish(await store.untrack(topic, conn.conn_id))


async def list_present(topic):
    """Users with at least one tracked socket in the set: USER + "status" + "last_seen" (+ "metas").

    "metas" (present when any of the user's sockets was tracked with meta) lists the
    meta of each of those sockets.
    """
    return await store.list_set(topic)

"""The generic presence API any topic can use (in the spirit of Phoenix.Presence).

    await track(conn, "room:general")          # this socket is present in the set
    await untrack(conn, "room:general")
    await list_present("room:general")         # [USER + status + last_seen (+ metas)]
    await present_among("room:general", [3, 7])  # {3}: which of these users are present
    await present_page("room:general")         # {"users": [...], "count": N, "more": bool}

Diffs `{"joins", "leaves", "updates", "count", "more"}` of PRESENCE entries are pushed on the set's
topic (event `event`, default "presence") to `hub.push.topic_group(topic)`, coalesced
over a short window; a socket that joined the topic and subscribed to that group
receives them. A socket is removed from every set when it closes, and entries of
sockets whose server died expire with the presence TTL.
"""

from presence import services, store


async def track(conn, topic, *, meta=None, event="presence", always=False):
    """Track this socket in the presence set named `topic` (meta: a small JSON-able dict).

    Tracking a socket again replaces its meta and is not a join. A user who chose to appear offline
    is not tracked (nor listed) until they stop, unless `always`: for sets the app's own logic must
    see everyone in (a game's referee), whatever they chose.
    """
    await services.connection_set_track(conn, topic, meta=meta, event=event, always=always)


async def untrack(conn, topic):
    """Stop tracking this socket in the set (a no-op, with no Redis call, if it was not tracked)."""
    await services.connection_set_untrack(conn, topic)


async def list_present(topic):
    """Users with at least one tracked socket in the set: USER + "status" + "last_seen" (+ "metas").

    "metas" (present when any of the user's sockets was tracked with meta) lists the
    meta of each of those sockets.
    """
    return await store.list_set(topic)


async def present_among(topic, user_ids):
    """The ids of those of `user_ids` with a tracked socket in the set now (online or away).

    One Redis call that looks at these users only: cheap however big the set, where
    list_present would read all of it.
    """
    statuses = await store.statuses(topic, list(dict.fromkeys(user_ids)))
    return {uid for uid, status in statuses.items() if status != "offline"}


async def looking(topic, user_ids=None):
    """The ids of users with a socket in the set now, those appearing offline included: who is looking at
    it, for the server's own decisions (no notification for a room someone has open), never to show.

    With `user_ids`, about those users only (one Redis call per set, however big it is); without, every
    user of the set: only for small sets (a direct conversation).
    """
    sets = (topic, services.unseen_set(topic))
    if user_ids is None:
        return {entry["id"] for name in sets for entry in await store.list_set(name)}
    return {uid for name in sets for uid in await present_among(name, user_ids)}


async def present_page(topic):
    """{"users", "count", "more"}: everyone present while the set is small; above
    HUB_PRESENCE_LIST_MAX users (`more` true) the first page only, and its diffs name nobody,
    they carry the count (the site-wide `presence` set keeps the users each socket watches).
    """
    return await services.present_page(topic)

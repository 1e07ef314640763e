"""Who is where in a document: one cursor per socket, kept in Redis so a join on any server sees everyone's.

`hub:doc:<id>:aw` is a hash of awareness id -> JSON state. A socket's state goes when it leaves;
a state its server never removed (the process died) is ignored after AWARENESS_TTL_SECS, since
clients refresh theirs every 20 s, and the hash itself expires with the last refresh.
"""

import hashlib
import json
import time

from collab import app_settings
from hub.redis import get_async_redis, key
from hub.users import user_dict

# A colour per user (the same in every tab and for everyone), readable on white.
PALETTE = ("#d1495b", "#2f5fd0", "#2a9d58", "#b8650b", "#8e44ad", "#0f8b8d", "#c2185b", "#5d6d1e")


def awareness_id(conn_id, topic):
    """A socket's id in one document: stable across its re-joins, and not its connection id."""
    return hashlib.sha256(f"{conn_id}:{topic}".encode()).hexdigest()[:12]


def colour_of(user):
    return PALETTE[user.pk % len(PALETTE)]


def _key(document_id):
    return key("doc", document_id, "aw")


def state(aid, user, anchor, head):
    return {"id": aid, "user": user_dict(user), "color": colour_of(user), "anchor": anchor, "head": head}


async def put(document_id, aid, value):
    client = get_async_redis()
    async with client.pipeline(transaction=False) as pipe:
        pipe.hset(_key(document_id), aid, json.dumps({**value, "at": time.time()}))
        pipe.expire(_key(document_id), app_settings.AWARENESS_TTL_SECS)
        await pipe.execute()


async def remove(document_id, aid):
    await get_async_redis().hdel(_key(document_id), aid)


async def states(document_id, *, but=None):
    """Every live cursor of the document except `but`'s; stale ones are removed as they are found."""
    client = get_async_redis()
    now, live, stale = time.time(), [], []
    for aid, raw in (await client.hgetall(_key(document_id))).items():
        value = json.loads(raw)
        if now - value.pop("at", 0) > app_settings.AWARENESS_TTL_SECS:
            stale.append(aid)
        elif value["id"] != but:
            live.append(value)
    if stale:
        await client.hdel(_key(document_id), *stale)
    return live

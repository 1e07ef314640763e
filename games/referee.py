"""The referee: ends games whose player to move ran out of time, and games a player left for longer than
HUB_GAME_GRACE_SECS (no socket of theirs joined to the game: closed, crashed, or cut off).

One server process referees at a time (a Redis lock held a little less than a round, as presence's
sweeper); every process runs the loop from its start (hub.lifecycle), so another takes over within a
round when one stops. When a player was first seen away is kept in Redis on Redis's clock, so it
survives the referee moving to another process and servers whose clocks disagree.
"""

import asyncio
import logging
import os
import uuid

from channels.db import database_sync_to_async

from games import app_settings, services
from hub.redis import get_async_redis, key
from presence import api as presence

logger = logging.getLogger(__name__)
_TOKEN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
_loops = {}


async def referee_once(*, token=_TOKEN):
    """One round if this process holds the lock: returns the ids of the games it ended."""
    client = get_async_redis()
    if not await client.set(key("game", "referee"), token, nx=True, px=int(app_settings.SWEEP_SECS * 900)):
        return []
    ended = []
    seconds, micros = await client.time()
    now = seconds + micros / 1e6
    away_key = key("game", "away")
    seen = set()
    for game_id, *player_ids in await database_sync_to_async(services.active_games)():
        if await database_sync_to_async(services.end_if_out_of_time)(game_id):
            ended.append(game_id)
            continue
        present = {user["id"] for user in await presence.list_present(f"game:{game_id}")}
        for user_id in player_ids:
            field = f"{game_id}:{user_id}"
            seen.add(field.encode())
            if user_id in present:
                await client.hdel(away_key, field)
                continue
            await client.hsetnx(away_key, field, now)
            since = float(await client.hget(away_key, field) or now)
            if now - since > app_settings.GRACE_SECS and await database_sync_to_async(services.forfeit)(game_id, user_id):
                ended.append(game_id)
                seen.difference_update(f"{game_id}:{uid}".encode() for uid in player_ids)  # removed below
                break
    stale = [field for field in await client.hkeys(away_key) if field not in seen]
    if stale:  # games that ended, or a player who came back meanwhile
        await client.hdel(away_key, *stale)
    return ended


async def _referee_forever():
    task = asyncio.current_task()
    while not task.cancelling():  # redis-py may swallow a cancellation (hub.outbox)
        try:
            await referee_once()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.warning("game referee round failed (%s); trying again", error)
        await asyncio.sleep(app_settings.SWEEP_SECS)


def ensure_referee():
    loop = asyncio.get_running_loop()
    task = _loops.get(loop)
    if task is None or task.done():
        _loops.clear()
        _loops[loop] = asyncio.ensure_future(_referee_forever())


class RefereeListener:
    """Starts the referee with the server process (hub.lifecycle), or with its first socket elsewhere."""

    async def started(self):
        ensure_referee()

    async def connected(self, conn):
        ensure_referee()

"""The referee: ends games whose player to move ran out of time, and games a player left for longer than
HUB_GAME_GRACE_SECS (no socket of theirs joined to the game: closed, crashed, or cut off).

One server process referees at a time (hub.periodic: a Redis lock taken every round), so another
takes over within a round when one stops. When a player was first seen away is kept in Redis on
Redis's clock, so it survives the referee moving to another process and servers whose clocks
disagree.
"""

from channels.db import database_sync_to_async

from games import app_settings, services
from hub.periodic import Periodic
from hub.redis import get_async_redis, key
from presence import api as presence


async def referee_round():
    """End what must end now; returns the ids of the games it ended."""
    client = get_async_redis()
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


referee = Periodic("game-referee", referee_round, app_settings.SWEEP_SECS)

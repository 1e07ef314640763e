"""Topics `games` (the lobby: invitations, quick match, results) and `game:<id>` (one game: moves, resign)."""

from channels.db import database_sync_to_async

from games import app_settings, services
from hub import app_settings as hub_settings
from hub import rates
from hub.payload import get_int, get_str, id_suffix
from hub.topics import Topic
from presence import api as presence


async def _limit_new_games(user):
    await rates.limit("game_start", user.pk, app_settings.INVITE_RATE, "Too many new games: wait a little.")


class LobbyTopic(Topic):
    """`games`: the user's games going on, the latest results, and starting new games."""

    events = ("create", "quick", "cancel_quick")
    costs = {"join": 5, "create": 5, "quick": 5}

    async def join(self, payload):
        await self.subscribe()  # pushes come to users' own groups; the topic group serves results for all
        return await database_sync_to_async(services.lobby_for)(self.user)

    async def on_create(self, payload):
        opponent = get_str(payload, "opponent", max_length=hub_settings.USERNAME_MAX_LENGTH)
        await _limit_new_games(self.user)
        game = await database_sync_to_async(services.invite)(creator=self.user, opponent_username=opponent)
        return {"game": await database_sync_to_async(services.game_dict)(game)}

    async def on_quick(self, payload):
        await _limit_new_games(self.user)
        game = await database_sync_to_async(services.quick_match)(user=self.user)
        if game is None:
            return {"waiting": True}
        return {"waiting": False, "game": await database_sync_to_async(services.game_dict)(game)}

    async def on_cancel_quick(self, payload):
        await database_sync_to_async(services.cancel_quick_match)(user=self.user)
        return {"waiting": False}


class GameTopic(Topic):
    """`game:<id>`: players and spectators; a player's sockets here are what keeps them in the game."""

    events = ("move", "resign")
    costs = {"join": 2}

    async def join(self, payload):
        self.game_id = id_suffix(self.suffix, "game")
        game = await database_sync_to_async(services.game_for)(self.game_id)
        await self.subscribe()
        # Presence of the game's set is how the referee tells a player who is away (games.referee).
        await presence.track(self.conn, self.topic, always=True)  # the referee: absent players forfeit
        # Read again after subscribing: a move made in between is in this reply or comes as a push.
        game = await database_sync_to_async(services.game_for)(self.game_id)
        return {"game": await database_sync_to_async(services.game_dict)(game)}

    async def leave(self):
        if not self.replaced:
            await presence.untrack(self.conn, self.topic)

    async def on_move(self, payload):
        column = get_int(payload, "column", minimum=0, maximum=app_settings.COLUMNS - 1)
        seen = get_int(payload, "moves", required=False, minimum=0, maximum=app_settings.ROWS * app_settings.COLUMNS)
        game = await database_sync_to_async(services.move)(
            game_id=self.game_id, user=self.user, column=column, seen_moves=seen)
        return {"game": await database_sync_to_async(services.game_dict)(game)}

    async def on_resign(self, payload):
        game = await database_sync_to_async(services.resign)(game_id=self.game_id, user=self.user)
        return {"game": await database_sync_to_async(services.game_dict)(game)}

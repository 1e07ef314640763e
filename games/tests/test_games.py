"""Connect Four (issue 14 §3) over real sockets, Redis and the database: invitations and quick match, the server's
rules (turns, full columns, game over, spectators), a move sent twice applied once, wins, resigning, and the
referee's endings: a clock at zero, a player away past the grace."""

import pytest
from channels.db import database_sync_to_async

from games import referee, services
from games.models import Game, QuickMatch
from notifications.models import Notification
from hub.redis import get_async_redis, key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _referee_by_hand(monkeypatch):
    """This process's referee loop stays off: each test runs its rounds itself (referee_once)."""
    monkeypatch.setattr(referee.referee, "ensure", lambda: None)


@pytest.fixture
async def players(amake_user):
    return await amake_user("ann"), await amake_user("bob")


async def referee_round():
    """One round of the referee now (its lock, hub.periodic's, would hold the next one back for a second)."""
    return await referee.referee_round()


async def lobby(hub_connect, user):
    comm = await hub_connect(user)
    data = await comm.ok("games", "join")
    return comm, data


async def board(hub_connect, user, game_id):
    comm = await hub_connect(user)
    return comm, (await comm.ok(f"game:{game_id}", "join"))["game"]


async def test_an_invitation_starts_a_game_the_opponent_hears_of(hub_connect, players):
    ann, bob = players
    a, _ = await lobby(hub_connect, ann)
    b, data = await lobby(hub_connect, bob)
    assert data == {"games": [], "results": [], "waiting": False}
    game = (await a.ok("games", "create", {"opponent": "BOB"}))["game"]
    assert [p["username"] for p in game["players"]] == ["ann", "bob"]
    assert game["turn"] == "ann" and game["moves"] == 0 and game["winner"] is None and not game["draw"]
    assert game["board"] == [[None] * 7 for _ in range(6)]
    assert game["clocks"]["bob"] == 300.0 and 295 < game["clocks"]["ann"] <= 300.0  # ann's clock runs
    assert (await b.expect("games", "invited"))["game"]["id"] == game["id"]
    # In bob's bell too, as a kind he may turn off or get by email.
    [note] = await database_sync_to_async(list)(Notification.objects.filter(recipient=bob))
    assert (note.kind, note.verb, note.url, note.actor_id) == (
        "games.invite", "invited you to a game of Connect Four", f"/games/{game['id']}/", ann.pk)
    for payload, code in (({"opponent": "ann"}, "bad_request"), ({"opponent": "nobody"}, "not_found"),
                          ({"opponent": "bob"}, "bad_request"),  # a game with bob is going on already
                          ({}, "bad_request"), ({"opponent": 7}, "bad_request")):
        assert (await a.error("games", "create", payload))["code"] == code


async def test_quick_match_pairs_the_two_who_ask(hub_connect, players):
    ann, bob = players
    a, _ = await lobby(hub_connect, ann)
    b, _ = await lobby(hub_connect, bob)
    assert await a.ok("games", "quick") == {"waiting": True}
    assert (await a.ok("games", "join"))["waiting"] is True
    paired = await b.ok("games", "quick")
    assert paired["waiting"] is False and paired["game"]["turn"] == "ann"  # who waited moves first
    assert (await a.expect("games", "matched"))["game"]["id"] == paired["game"]["id"]
    assert not await database_sync_to_async(QuickMatch.objects.exists)()
    assert await a.ok("games", "quick") == {"waiting": True}
    assert await a.ok("games", "cancel_quick") == {"waiting": False}
    assert not await database_sync_to_async(QuickMatch.objects.exists)()


async def test_the_server_keeps_the_rules_and_a_win_reaches_players_spectators_and_lobbies(hub_connect, players,
                                                                                         amake_user):
    ann, bob = players
    cat = await amake_user("cat")
    game_id = (await database_sync_to_async(services.invite)(creator=ann, opponent_username="bob")).pk
    topic = f"game:{game_id}"
    a, _ = await board(hub_connect, ann, game_id)
    b, _ = await board(hub_connect, bob, game_id)
    c, seen = await board(hub_connect, cat, game_id)
    watcher, _ = await lobby(hub_connect, cat)
    assert seen["turn"] == "ann"
    assert (await b.error(topic, "move", {"column": 0, "moves": 0}))["code"] == "forbidden"  # not bob's turn
    assert (await c.error(topic, "move", {"column": 0, "moves": 0}))["code"] == "forbidden"  # a spectator
    for payload in ({"column": 7, "moves": 0}, {"column": -1, "moves": 0}, {"column": "3", "moves": 0},
                    {"moves": 0}, {"column": True, "moves": 0}, {"column": 3, "moves": -1}):
        assert (await a.error(topic, "move", payload))["code"] == "bad_request", payload
    # Ann plays column 0 four times, Bob column 1; Bob's second move is sent twice (a lost reply) and counts once.
    moves = 0
    for column, player in ((0, a), (1, b), (0, a), (1, b)):
        game = (await player.ok(topic, "move", {"column": column, "moves": moves}))["game"]
        moves += 1
        assert game["moves"] == moves
    again = (await b.ok(topic, "move", {"column": 1, "moves": 3}))["game"]
    assert again["moves"] == 4 and again["turn"] == "ann" and [row[1] for row in again["board"]][4:] == ["bob"] * 2
    assert (await b.error(topic, "move", {"column": 1, "moves": 2}))["code"] == "bad_request"  # an old view
    for column, player in ((0, a), (1, b)):
        game = (await player.ok(topic, "move", {"column": column, "moves": moves}))["game"]
        moves += 1
    game = (await a.ok(topic, "move", {"column": 0}))["game"]  # `moves` may be left out
    assert game["winner"] == "ann" and game["ended"] == "four" and game["turn"] is None
    assert [row[0] for row in game["board"]][2:] == ["ann"] * 4 and [row[1] for row in game["board"]][3:] == ["bob"] * 3
    final = await c.expect(topic, "state", where=lambda p: p["game"]["winner"] is not None)
    assert final["game"] == game
    assert (await watcher.expect("games", "finished"))["game"]["winner"] == "ann"
    assert (await b.error(topic, "move", {"column": 2, "moves": 7}))["code"] == "forbidden"  # over
    _, data = await lobby(hub_connect, bob)
    assert data["games"] == [] and data["results"][0]["id"] == game_id


async def test_a_full_column_is_refused_and_resigning_ends_the_game(hub_connect, players):
    ann, bob = players
    game_id = (await database_sync_to_async(services.invite)(creator=ann, opponent_username="bob")).pk
    topic = f"game:{game_id}"
    a, _ = await board(hub_connect, ann, game_id)
    b, _ = await board(hub_connect, bob, game_id)
    for moves in range(6):
        await (a if moves % 2 == 0 else b).ok(topic, "move", {"column": 3, "moves": moves})
    error = await a.error(topic, "move", {"column": 3, "moves": 6})
    assert error["code"] == "bad_request" and "full" in error["message"]
    game = (await b.ok(topic, "resign"))["game"]
    assert game["winner"] == "ann" and game["ended"] == "resign"
    assert (await a.expect(topic, "state", where=lambda p: p["game"]["ended"]))["game"]["ended"] == "resign"


async def test_a_clock_at_zero_loses_the_game(hub_connect, players, settings):
    settings.HUB_GAME_CLOCK_SECS = 0
    ann, bob = players
    game_id = (await database_sync_to_async(services.invite)(creator=ann, opponent_username="bob")).pk
    a, _ = await board(hub_connect, ann, game_id)
    error = await a.error(f"game:{game_id}", "move", {"column": 0, "moves": 0})
    assert error["code"] == "forbidden" and "clock" in error["message"]
    ended = (await a.expect(f"game:{game_id}", "state"))["game"]
    assert ended["winner"] == "bob" and ended["ended"] == "time"
    # The referee ends one nobody moves in.
    other = (await database_sync_to_async(services.invite)(creator=bob, opponent_username="ann")).pk
    assert await referee_round() == [other]
    game = await database_sync_to_async(Game.objects.get)(pk=other)
    assert game.ended == "time" and game.winner_id == ann.pk


async def test_a_player_away_past_the_grace_forfeits(hub_connect, players,
                                                                                       settings):
    settings.HUB_GAME_GRACE_SECS = 0
    ann, bob = players
    game_id = (await database_sync_to_async(services.invite)(creator=ann, opponent_username="bob")).pk
    a, _ = await board(hub_connect, ann, game_id)
    b, _ = await board(hub_connect, bob, game_id)
    assert await referee_round() == []  # both are there
    await a.ok(f"game:{game_id}", "move", {"column": 3, "moves": 0})
    await b.ok(f"game:{game_id}", "move", {"column": 3, "moves": 1})  # bob has played: away, he forfeits
    await b.disconnect()
    await a.expect(f"game:{game_id}", "presence", where=lambda p: p["leaves"])
    assert await referee_round() == []  # seen away now: the grace starts
    assert await get_async_redis().hexists(key("game", "away"), f"{game_id}:{bob.pk}")
    assert await referee_round() == [game_id]
    ended = (await a.expect(f"game:{game_id}", "state", where=lambda p: p["game"]["ended"]))["game"]
    assert ended["winner"] == "ann" and ended["ended"] == "forfeit"
    assert not await get_async_redis().exists(key("game", "away"))


async def test_a_player_back_within_the_grace_plays_on(hub_connect, players, settings):
    settings.HUB_GAME_GRACE_SECS = 3600
    ann, bob = players
    game_id = (await database_sync_to_async(services.invite)(creator=ann, opponent_username="bob")).pk
    a, _ = await board(hub_connect, ann, game_id)
    b, _ = await board(hub_connect, bob, game_id)
    await b.disconnect()
    await a.expect(f"game:{game_id}", "presence", where=lambda p: p["leaves"])
    assert await referee_round() == []
    assert await get_async_redis().hexists(key("game", "away"), f"{game_id}:{bob.pk}")
    b, game = await board(hub_connect, bob, game_id)  # back: the same game
    assert game["id"] == game_id and game["ended"] is None
    assert await referee_round() == []
    assert not await get_async_redis().hexists(key("game", "away"), f"{game_id}:{bob.pk}")


async def test_an_invitation_never_taken_up_ends_abandoned_without_a_winner(hub_connect, players, settings):
    settings.HUB_GAME_GRACE_SECS = 0
    ann, bob = players
    game_id = (await database_sync_to_async(services.invite)(creator=ann, opponent_username="bob")).pk
    a, _ = await board(hub_connect, ann, game_id)
    await a.ok(f"game:{game_id}", "move", {"column": 3, "moves": 0})
    assert await referee_round() == []  # bob never came: away from now
    assert await referee_round() == [game_id]
    ended = (await a.expect(f"game:{game_id}", "state", where=lambda p: p["game"]["ended"]))["game"]
    assert ended["ended"] == "abandoned" and ended["winner"] is None and not ended["draw"]

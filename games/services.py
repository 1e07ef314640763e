"""Connect Four's feature logic: starting games (invitations, quick match), moves, resigning, and the referee's
endings (a clock at zero, a player gone past the grace). The server alone decides what happened: clients
send a column and are told the new state.

Every change happens in a transaction holding the game's row lock, and is pushed after the commit
(`state` to `game:<id>`; `invited`, `matched`, `finished` to the players' `games` lobby).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import notifications
from games import app_settings
from games.models import EMPTY_BOARD, Game, QuickMatch
from hub.errors import BadRequest, Forbidden, NotFound
from hub.push import push_to_topic, push_to_users
from hub.users import user_dict

LOBBY = "games"
MARKS = "01"


# --- the rules


def cell(board, row, column):
    return board[row * app_settings.COLUMNS + column]


def drop(board, column, mark):
    """(new board, row) with `mark` dropped into `column`, or (board, None) if the column is full."""
    for row in range(app_settings.ROWS - 1, -1, -1):
        if cell(board, row, column) == ".":
            at = row * app_settings.COLUMNS + column
            return board[:at] + mark + board[at + 1:], row
    return board, None


def makes_four(board, row, column):
    """Whether the piece at (row, column) is in a line of four or more of its own."""
    mark = cell(board, row, column)
    for d_row, d_col in ((0, 1), (1, 0), (1, 1), (1, -1)):
        count = 1
        for sign in (1, -1):
            r, c = row + sign * d_row, column + sign * d_col
            while 0 <= r < app_settings.ROWS and 0 <= c < app_settings.COLUMNS and cell(board, r, c) == mark:
                count += 1
                r, c = r + sign * d_row, c + sign * d_col
        if count >= 4:
            return True
    return False


# --- what clients see


def players(game):
    return (game.first, game.second)


def to_move(game):
    """The player whose turn it is, or None when the game is over."""
    return None if game.over else players(game)[game.moves % 2]


def clocks_ms(game, now=None):
    """Each player's thinking time left now, in ms (the player to move is losing theirs)."""
    left = [game.clock_first_ms, game.clock_second_ms]
    if not game.over:
        spent = int(((now or timezone.now()) - game.turn_started_at).total_seconds() * 1000)
        left[game.moves % 2] = max(0, left[game.moves % 2] - spent)
    return left


def game_dict(game):
    """GAME (docs/protocol.md)."""
    names = [game.first.username, game.second.username]
    rows = [[None if (c := cell(game.board, r, col)) == "." else names[int(c)] for col in range(app_settings.COLUMNS)]
            for r in range(app_settings.ROWS)]
    mover = to_move(game)
    return {
        "id": game.pk, "players": [user_dict(game.first), user_dict(game.second)], "board": rows,
        "turn": mover.username if mover else None,
        "winner": game.winner.username if game.winner_id else None,
        "draw": game.ended == "draw", "moves": game.moves, "last_column": game.last_column,
        "clocks": {name: ms / 1000 for name, ms in zip(names, clocks_ms(game))},
        "ended": game.ended or None,
    }


def _games():
    """Games with their players and winner read in the same query (game_dict names them)."""
    return Game.objects.select_related("first", "second", "winner")


def _locked(game_id):
    # Only the game row: FOR UPDATE cannot lock the nullable side of the outer join to `winner` (PostgreSQL).
    game = _games().select_for_update(of=("self",)).filter(
        pk=game_id).first()
    if game is None:
        raise NotFound("No such game.")
    return game


def game_for(game_id):
    game = _games().filter(pk=game_id).first()
    if game is None:
        raise NotFound("No such game.")
    return game


def lobby_for(user):
    """The user's games going on and the latest finished games of the site, for the lobby."""
    mine = _games().filter(
        Q(first=user) | Q(second=user), ended="").order_by("-id")[:app_settings.ACTIVE_MAX]
    done = _games().exclude(ended="").order_by(
        "-finished_at", "-id")[:app_settings.RESULTS_SHOWN]
    return {"games": [game_dict(g) for g in mine], "results": [game_dict(g) for g in done],
            "waiting": QuickMatch.objects.filter(user=user).exists()}


# --- starting games


def _check_room_for_a_game(user):
    if Game.objects.filter(Q(first=user) | Q(second=user), ended="").count() >= app_settings.ACTIVE_MAX:
        raise BadRequest(f"{user.username} has {app_settings.ACTIVE_MAX} games going on: finish one first.")


def _start(first, second):
    clock = app_settings.CLOCK_SECS * 1000
    game = Game.objects.create(first=first, second=second, board=EMPTY_BOARD, clock_first_ms=clock,
                               clock_second_ms=clock)
    return _games().get(pk=game.pk)


def invite(*, creator, opponent_username):
    """A game against `opponent_username`, who is told at once (`invited` on their lobby); creator moves first."""
    opponent = get_user_model().objects.filter(username__iexact=opponent_username, is_active=True).first()
    if opponent is None:
        raise NotFound(f"No user {opponent_username!r}.")
    if opponent.pk == creator.pk:
        raise BadRequest("Invite someone else: a game needs two players.")
    if Game.objects.filter(Q(first=creator, second=opponent) | Q(first=opponent, second=creator), ended="").exists():
        raise BadRequest(f"You have a game going on with {opponent.username} already.")  # no flooding one person
    with transaction.atomic():
        _check_room_for_a_game(creator)
        _check_room_for_a_game(opponent)
        game = _start(creator, opponent)
        push_to_users([opponent.pk], LOBBY, "invited", {"game": game_dict(game)})
        # In the bell too (and by email, if they choose): the lobby's push reaches only an open lobby.
        notifications.notify(opponent, "invited you to a game of Connect Four", actor=creator, target=game,
                             url=f"/games/{game.pk}/", kind="games.invite")
    return game


def quick_match(*, user):
    """Pair `user` with whoever waits longest (who moves first), or make them the one who waits (None)."""
    with transaction.atomic():
        _check_room_for_a_game(user)
        waiting = QuickMatch.objects.select_for_update(skip_locked=True).exclude(user=user).select_related(
            "user").order_by("created_at", "id").first()
        if waiting is None:
            QuickMatch.objects.get_or_create(user=user)
            return None
        waiting.delete()
        QuickMatch.objects.filter(user=user).delete()
        game = _start(waiting.user, user)
        push_to_users([waiting.user_id], LOBBY, "matched", {"game": game_dict(game)})
    return game


def cancel_quick_match(*, user):
    QuickMatch.objects.filter(user=user).delete()


# --- playing


def _finish(game, *, winner, ended, now):
    """End the game (the caller holds the lock and saves); every lobby hears of it (the results list)."""
    game.clock_first_ms, game.clock_second_ms = clocks_ms(game, now)
    game.winner, game.ended, game.finished_at = winner, ended, now
    push_to_topic(LOBBY, "finished", {"game": game_dict(game)})


def _save_and_push(game):
    game.save()
    push_to_topic(game.topic, "state", {"game": game_dict(game)})


def move(*, game_id, user, column, seen_moves):
    """Drop a piece of `user` into `column`; `seen_moves` is the move count the player saw (the same move sent
    twice is applied once; None: no such check, the move applies to the game as it is). Returns the game. Raises NotFound, Forbidden (not a player, not their turn, the
    game over, their clock at zero: which ends the game) or BadRequest (a full column, an old view)."""
    if not isinstance(column, int) or isinstance(column, bool) or not 0 <= column < app_settings.COLUMNS:
        raise BadRequest(f"`column` must be a whole number from 0 to {app_settings.COLUMNS - 1}.")
    timed_out = False
    with transaction.atomic():
        game = _locked(game_id)
        if user.pk not in (game.first_id, game.second_id):
            raise Forbidden("Only the two players move; you are watching.")
        seat = 0 if user.pk == game.first_id else 1
        if (seen_moves is not None and game.moves and seen_moves == game.moves - 1 and (game.moves - 1) % 2 == seat
                and game.last_column == column):
            return game  # this move again (a resend after a lost reply): applied once already
        if game.over:
            raise Forbidden("The game is over.")
        if seen_moves is not None and seen_moves != game.moves:
            raise BadRequest(f"The game is at move {game.moves}, not {seen_moves}: join again to see it.")
        if game.moves % 2 != seat:
            raise Forbidden("It is not your turn.")
        now = timezone.now()
        left = clocks_ms(game, now)[seat]
        if left <= 0:
            _finish(game, winner=players(game)[1 - seat], ended="time", now=now)
            _save_and_push(game)
            timed_out = True
        else:
            board, row = drop(game.board, column, MARKS[seat])
            if row is None:
                raise BadRequest(f"Column {column} is full.")
            if seat == 0:
                game.clock_first_ms = left
            else:
                game.clock_second_ms = left
            game.board, game.moves, game.last_column, game.turn_started_at = board, game.moves + 1, column, now
            if makes_four(board, row, column):
                _finish(game, winner=user, ended="four", now=now)
            elif "." not in board:
                _finish(game, winner=None, ended="draw", now=now)
            _save_and_push(game)
    if timed_out:
        raise Forbidden("Your clock ran out: the game is over.")
    return game


def resign(*, game_id, user):
    with transaction.atomic():
        game = _locked(game_id)
        if user.pk not in (game.first_id, game.second_id):
            raise Forbidden("Only the two players may resign.")
        if game.over:
            raise Forbidden("The game is over.")
        winner = game.second if user.pk == game.first_id else game.first
        _finish(game, winner=winner, ended="resign", now=timezone.now())
        _save_and_push(game)
    return game


# --- the referee (games.referee calls these)


def active_games(limit=500):
    """(id, first id, second id) of games going on, the oldest first."""
    return list(Game.objects.filter(ended="").order_by("id").values_list("id", "first_id", "second_id")[:limit])


def end_if_out_of_time(game_id):
    """End a game whose player to move has no time left; True if it ended now."""
    with transaction.atomic():
        game = _locked(game_id)
        if game.over:
            return False
        now = timezone.now()
        mover = game.moves % 2
        if clocks_ms(game, now)[mover] > 0:
            return False
        _finish(game, winner=players(game)[1 - mover], ended="time", now=now)
        _save_and_push(game)
        return True


def forfeit(game_id, user_id):
    """`user_id` was away from the game past the grace: the other player wins, unless the one away never
    moved in it (an invitation not taken up): then nobody wins ("abandoned"). True if it ended now."""
    with transaction.atomic():
        game = _locked(game_id)
        if game.over or user_id not in (game.first_id, game.second_id):
            return False
        seat = 0 if user_id == game.first_id else 1
        if game.moves <= seat:
            _finish(game, winner=None, ended="abandoned", now=timezone.now())
        else:
            _finish(game, winner=players(game)[1 - seat], ended="forfeit", now=timezone.now())
        _save_and_push(game)
        return True

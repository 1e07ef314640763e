"""The game's pages: /games/ (the lobby) and /games/<id>/ (a board). The socket fills both (games/static/games/games.js)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from games import app_settings, services
from hub.errors import NotFound


@login_required
def lobby_page(request):
    return render(request, "games/lobby.html", {"clock_secs": app_settings.CLOCK_SECS})


@login_required
def game_page(request, game_id):
    try:
        services.game_for(game_id)
    except NotFound:
        raise Http404("No such game.")
    return render(request, "games/game.html", {"game_id": game_id, "grace_secs": app_settings.GRACE_SECS})

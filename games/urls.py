"""URLs of the games app (mounted at /games/)."""

from django.urls import path

from games import views

app_name = "games"
urlpatterns = [
    path("", views.lobby_page, name="lobby"),
    path("<int:game_id>/", views.game_page, name="game"),
]

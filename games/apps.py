"""The games app: registers the `games` lobby and `game:*` topics, the referee, and the pages' module."""

from django.apps import AppConfig


class GamesConfig(AppConfig):
    name = "games"

    def ready(self):
        import notifications

        notifications.register_kind("games.invite", "Invitations to a game")

        from games.referee import referee
        from games.topics import GameTopic, LobbyTopic
        from hub import lifecycle, ui
        from hub.topics import register

        register("games", LobbyTopic)
        register("game:*", GameTopic)
        lifecycle.add_listener(referee)
        ui.register("games", modules=("games/games.js",), styles=("games/games.css",),
                    slots={"header": "games/_header_link.html"})

"""The presence app: registers the `presence` topic and its UI (the Online sidebar), and follows every socket's life."""

from django.apps import AppConfig


class PresenceConfig(AppConfig):
    name = "presence"

    def ready(self):
        from hub import lifecycle
        from hub.topics import register
        from presence.listener import PresenceListener
        from presence.topics import PresenceTopic

        register("presence", PresenceTopic)
        lifecycle.add_listener(PresenceListener())

        from hub import ui

        ui.register(
            "presence",
            modules=("presence/sidebar.js",),
            styles=("presence/presence.css",),
            slots={"sidebar": "presence/_sidebar.html"},
        )

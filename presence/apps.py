"""The presence app: registers the `presence` topic and its UI (the Online sidebar), follows every socket's life,
and forgets deleted users."""

from django.apps import AppConfig


class PresenceConfig(AppConfig):
    name = "presence"

    def ready(self):
        from hub import lifecycle, retention
        from hub.topics import register
        from presence.listener import PresenceListener
        from presence.services import user_forget
        from presence.topics import PresenceTopic

        register("presence", PresenceTopic)
        lifecycle.add_listener(PresenceListener())
        retention.on_user_deleted("presence", user_forget)

        from hub import ui

        ui.register(
            "presence",
            modules=("presence/sidebar.js",),
            styles=("presence/presence.css",),
            slots={"sidebar": "presence/_sidebar.html"},
        )

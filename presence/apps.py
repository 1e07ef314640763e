"""The presence app: registers the `presence` topic and its UI (the Online sidebar), follows every socket's life,
and forgets deleted users."""

from django.apps import AppConfig


class PresenceConfig(AppConfig):
    name = "presence"

    def ready(self):
        from hub import counters, lifecycle, retention
        from hub.topics import register
        from presence.listener import PresenceListener
        from presence.services import online_count, user_forget
        from presence.topics import PresenceTopic

        register("presence", PresenceTopic)
        lifecycle.add_listener(PresenceListener())
        retention.on_user_deleted("presence", user_forget)
        counters.add_gauge("presence_online_users", "Users present on the site now (every server process).",
                           online_count)

        from hub import ui

        ui.register(
            "presence",
            modules=("presence/sidebar.js",),
            styles=("presence/presence.css",),
            slots={"sidebar": "presence/_sidebar.html"},
        )

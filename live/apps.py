"""The live app: registers the `stream:*` topic (live data: the latest value of each key, conflated per socket)."""

from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self):
        from hub.topics import register
        from live.topics import StreamTopic

        register("stream:*", StreamTopic)

        from hub import ui

        ui.register("live", modules=("live/table.js",), styles=("live/live.css",))

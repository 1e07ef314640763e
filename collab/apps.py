"""The collab app: registers the `doc:*` topic (collaborative documents) and its editor page's module."""

from django.apps import AppConfig


class CollabConfig(AppConfig):
    name = "collab"

    def ready(self):
        import notifications

        notifications.register_kind("collab.shared", "Documents shared with you")

        from collab.topics import DocTopic
        from hub.topics import register

        register("doc:*", DocTopic)

        from hub import ui

        ui.register("collab", modules=("collab/collab.js",), styles=("collab/collab.css",),
                    slots={"header": "collab/_header_link.html"})

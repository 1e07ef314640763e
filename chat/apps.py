"""The chat app: registers the `chat` and `room:*` topics, its UI (the lobby, the room page's modules), and
forgetting a deleted user's typing slots."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        from chat.topics import ChatTopic, RoomTopic
        from hub.topics import register

        register("chat", ChatTopic)
        register("room:*", RoomTopic)

        from chat.services import typing_forget
        from hub import retention

        retention.on_user_deleted("chat", typing_forget)

        from chat.ui import template_context
        from hub import ui

        ui.register(
            "chat",
            modules=("chat/lobby.js", "chat/room.js"),
            styles=("chat/chat.css",),
            slots={"home": "chat/_lobby.html"},
            context=template_context,
        )

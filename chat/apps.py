"""The chat app: registers the `chat` and `room:*` topics."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        from chat.topics import ChatTopic, RoomTopic
        from hub.topics import register

        register("chat", ChatTopic)
        register("room:*", RoomTopic)

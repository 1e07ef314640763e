"""The chat app; registers its topics with the hub in ready()."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        pass

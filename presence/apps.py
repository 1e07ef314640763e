"""The presence app; registers its topics with the hub in ready()."""

from django.apps import AppConfig


class PresenceConfig(AppConfig):
    name = "presence"

    def ready(self):
        pass

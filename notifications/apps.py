"""The notifications app; registers its topics with the hub in ready()."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        pass

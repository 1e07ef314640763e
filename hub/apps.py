"""The hub app: closes a session's sockets on logout."""

from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from hub.signals import close_sockets_on_logout

        user_logged_out.connect(close_sockets_on_logout, dispatch_uid="hub.close_sockets_on_logout")

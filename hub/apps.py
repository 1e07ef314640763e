"""The hub app: closes a session's sockets on logout, and forgets a deleted user's live state."""

from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete

        from hub import retention
        from hub.signals import close_sockets_on_logout

        user_logged_out.connect(close_sockets_on_logout, dispatch_uid="hub.close_sockets_on_logout")
        post_delete.connect(retention.user_deleted, sender=get_user_model(), dispatch_uid="hub.retention.user_deleted")

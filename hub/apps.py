"""The hub app: closes a session's sockets on logout, makes a user's sockets re-read them when their rights
change, and forgets a deleted user's live state."""

from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

        from channels.db import database_sync_to_async

        from hub import counters, lifecycle, live_stats, log_format, metrics, outbox, retention, signals
        from hub.live_topic import LiveStatsTopic
        from hub.topics import register

        lifecycle.add_listener(outbox.OutboxListener())
        lifecycle.add_listener(log_format.SocketLogContext())
        lifecycle.add_listener(counters.SocketCounter())
        lifecycle.add_listener(metrics.MetricsListener())
        metrics.install()
        lifecycle.add_listener(live_stats.LiveStatsListener())
        register("hub:*", LiveStatsTopic)  # hub:admin, the staff live view
        counters.add_gauge("outbox_backlog", "Rows in the outbox table: pushes not yet published, or published and "
                           "not yet tidied by the relay.", database_sync_to_async(outbox.backlog))

        user_logged_out.connect(signals.close_sockets_on_logout, dispatch_uid="hub.close_sockets_on_logout")
        user_model = get_user_model()
        post_save.connect(signals.user_saved, sender=user_model, dispatch_uid="hub.user_saved")
        for relation in ("groups", "user_permissions"):
            through = getattr(user_model, relation, None)
            if through is not None:  # a custom user model may have neither
                m2m_changed.connect(signals.user_relations_changed, sender=through.through,
                                    dispatch_uid=f"hub.user_{relation}_changed")
        m2m_changed.connect(signals.group_permissions_changed, sender=Group.permissions.through,
                            dispatch_uid="hub.group_permissions_changed")
        pre_delete.connect(signals.group_deleted, sender=Group, dispatch_uid="hub.group_deleted")
        post_delete.connect(retention.user_deleted, sender=user_model, dispatch_uid="hub.retention.user_deleted")

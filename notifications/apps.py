"""The notifications app: registers the `notifications` and `announcements` topics, its UI (bell, banners,
toasts) and the pruning of old read notifications."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications import kinds

        kinds.register_kind(kinds.DEFAULT_KIND, "Other notifications")
        kinds.register_kind(kinds.ANNOUNCEMENTS, "Announcements from staff")

        from hub.topics import register
        from notifications.topics import AnnouncementsTopic, NotificationsTopic

        register("notifications", NotificationsTopic)
        register("announcements", AnnouncementsTopic)

        from hub import lifecycle
        from notifications.scheduler import emailer, scheduler

        lifecycle.add_listener(scheduler)  # scheduled announcements, published by one process at a time
        lifecycle.add_listener(emailer)  # digests of missed notifications, by one process at a time

        from hub import retention
        from notifications import app_settings
        from notifications.services import notification_prune

        retention.register(
            "notifications", notification_prune, done="deleted",
            what=lambda: f"read notifications older than {app_settings.NOTIFICATION_RETENTION_DAYS} days",
        )

        from hub import ui

        ui.register(
            "notifications",
            modules=("notifications/notifications.js", "notifications/banners.js"),
            styles=("notifications/notifications.css",),
            slots={
                "header": "notifications/_bell.html",
                "banner": "notifications/_banner.html",
                "body_end": "notifications/_toasts.html",
            },
        )

"""The notifications app: registers the `notifications` and `announcements` topics and its UI (bell, banners, toasts)."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from hub.topics import register
        from notifications.topics import AnnouncementsTopic, NotificationsTopic

        register("notifications", NotificationsTopic)
        register("announcements", AnnouncementsTopic)

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

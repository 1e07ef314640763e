"""The notifications app: registers the `notifications` and `announcements` topics."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from hub.topics import register
        from notifications.topics import AnnouncementsTopic, NotificationsTopic

        register("notifications", NotificationsTopic)
        register("announcements", AnnouncementsTopic)

"""The chat app: registers the `chat` and `room:*` topics, its UI (the lobby, the room page's modules), the
blanking of old deleted messages' bodies, and forgetting a deleted user's typing slots."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        import notifications

        # Missed mentions and direct messages are what people want by email when they were away.
        notifications.register_kind("chat.mention", "Mentions of you in rooms", default="email")
        notifications.register_kind("chat.direct", "Direct messages", default="email")

        from chat.topics import ChatTopic, RoomTopic
        from hub.topics import register

        register("chat", ChatTopic)
        register("room:*", RoomTopic)

        from django.db.models.signals import post_delete

        from chat.models import Membership
        from chat.signals import membership_ended

        post_delete.connect(membership_ended, sender=Membership, dispatch_uid="chat.membership_ended")

        from chat import app_settings
        from chat.services import message_body_prune, typing_forget
        from hub import retention

        retention.register(
            "chat", message_body_prune, done="blanked",
            what=lambda: f"bodies of messages deleted over {app_settings.DELETED_BODY_RETENTION_DAYS} days ago",
        )
        retention.on_user_deleted("chat", typing_forget)

        from chat.ui import template_context
        from hub import ui

        ui.register(
            "chat",
            modules=("chat/lobby.js", "chat/room.js"),
            styles=("chat/chat.css",),
            slots={"home": "chat/_lobby.html"},
            context=template_context,
        )

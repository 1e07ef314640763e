"""However a membership ends (a service, the admin, a plain ORM delete, its room or user deleted),
the user's sockets hear of it after the commit: `removed` takes every socket of theirs joined to
the room out of the topic, and their lobbies stop counting the room."""

from chat.models import Room
from chat.services.rooms import CHAT_TOPIC
from hub.push import push_to_users


def membership_ended(sender, instance, **kwargs):
    """post_delete of a Membership (connected in ChatConfig.ready)."""
    room = Room.objects.filter(pk=instance.room_id).only("slug").first()
    if room is None:
        return  # its room is being deleted, and was deleted first: nothing to address the push to
    payload = {"room": room.slug}
    push_to_users([instance.user_id], f"room:{room.slug}", "removed", payload, then_leave=True)
    push_to_users([instance.user_id], CHAT_TOPIC, "removed", payload)

"""docs/protocol.md's MESSAGE and ROOM objects, and a room join's read markers."""

from hub.protocol import iso
from hub.users import display_name, user_dict


def message_dict(message):
    return {
        "id": message.pk,
        "seq": message.seq,
        "change_seq": message.change_seq,
        "room": message.room.slug,
        "author": user_dict(message.author),
        "body": "" if message.deleted else message.body,
        "created_at": iso(message.created_at),
        "edited_at": iso(message.edited_at),
        "edited_by": user_dict(message.edited_by) if message.edited_by_id else None,
        "deleted": message.deleted,
        "client_id": message.client_id,
    }


def room_name_for(room, viewer, members=None):
    """A direct room is named after the other person, as the viewer sees it."""
    if room.kind != "direct" or members is None:
        return room.name
    others = [m for m in members if m.pk != viewer.pk]
    return display_name(others[0]) if others else room.name


def room_dict(room, viewer, *, unread=0, last_message_id=None, members=None, membership=None):
    muted = membership is not None and membership.is_muted()
    return {
        "slug": room.slug,
        "name": room_name_for(room, viewer, members),
        "kind": room.kind,
        "unread": unread,
        "last_message_id": last_message_id,
        "muted": muted,
        "muted_until": iso(membership.muted_until) if muted else None,
    }


def read_marker_dict(membership):
    """{"user": USER, "last_read_id": id | null}: null for a member who has read nothing yet."""
    return {"user": user_dict(membership.user), "last_read_id": membership.last_read_id or None}

"""docs/protocol.md's NOTIFICATION and ANNOUNCEMENT objects."""

from hub.protocol import iso
from hub.users import user_dict


def notification_dict(notification):
    target = None
    if notification.target_content_type_id:
        ct = notification.target_content_type
        target = {"type": f"{ct.app_label}.{ct.model}", "id": notification.target_object_id,
                  "repr": notification.target_repr}
    return {
        "id": notification.pk,
        "seq": notification.seq,
        "verb": notification.verb,
        "level": notification.level,
        "actor": user_dict(notification.actor) if notification.actor_id else None,
        "target": target,
        "data": notification.data,
        "url": notification.url,
        "unread": notification.unread,
        "created_at": iso(notification.created_at),
    }


def announcement_dict(announcement):
    return {
        "id": announcement.pk,
        "title": announcement.title,
        "body": announcement.body,
        "level": announcement.level,
        "author": user_dict(announcement.author) if announcement.author_id else None,
        "created_at": iso(announcement.created_at),
        "expires_at": iso(announcement.expires_at),
    }

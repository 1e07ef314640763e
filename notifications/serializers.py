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
        # Grouped (notify(group_key=...)): how many notifications this one stands for, the latest
        # actors (at most three, the latest first) and how many distinct actors there were.
        "count": notification.count,
        "actors": [user_dict(user) for user in _shown_actors(notification)],
        "actor_count": max(len(notification.actor_ids), 1 if notification.actor_id else 0),
    }


def who(names, actor_count):
    """"alice", "alice and bob", "alice, bob and carol", "alice, bob and 3 others": a grouped item's subject
    (static/notifications/who.js says the same in the browser)."""
    if actor_count > 3 and len(names) >= 2:
        others = actor_count - 2
        return f"{names[0]}, {names[1]} and {others} other{'s' if others > 1 else ''}"
    if len(names) <= 1:
        return names[0] if names else ""
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _shown_actors(notification):
    shown = getattr(notification, "shown_actors", None)
    if shown is not None:
        return shown
    if notification.count > 1:  # not loaded by selectors.attach_actors: one query for this one
        from notifications.selectors import attach_actors

        return attach_actors([notification])[0].shown_actors
    return [notification.actor] if notification.actor_id else []


def announcement_dict(announcement):
    return {
        "id": announcement.pk,
        "title": announcement.title,
        "body": announcement.body,
        "level": announcement.level,
        "author": user_dict(announcement.author) if announcement.author_id else None,
        "created_at": iso(announcement.created_at),
        "expires_at": iso(announcement.expires_at),
        "audience": announcement.audience,
        "audience_group": announcement.audience_group.name if announcement.audience_group_id else None,
    }

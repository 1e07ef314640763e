"""Reads: the rooms a user sees, access checks, messages by id ranges."""

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Q

from chat.models import Membership, Message, Room
from chat.serializers import room_dict

SINCE_LIMIT = 500
JOIN_NEWEST = 50


def room_get(*, slug):
    return Room.objects.filter(slug=slug).first()


def room_is_member(*, room, user):
    return Membership.objects.filter(room=room, user=user).exists()


def room_can_join(*, room, user):
    return room.kind == "public" or room_is_member(room=room, user=user)


def room_members(*, room, usernames=None):
    """The room's members; only those named in `usernames` when given (a mention: no full scan)."""
    users = get_user_model().objects.filter(chat_memberships__room=room)
    if usernames is not None:
        users = users.filter(username__in=usernames)
    return list(users)


def room_unread(*, room, user):
    """Messages by others after the user's read marker (0 for a non-member)."""
    membership = Membership.objects.filter(room=room, user=user).first()
    if membership is None:
        return 0
    return (Message.objects.filter(room=room, id__gt=membership.last_read_id, deleted=False)
            .exclude(author=user).count())


def room_last_message_id(*, room):
    return Message.objects.filter(room=room).aggregate(last=Max("id"))["last"]


def rooms_for_user(*, user):
    """ROOM dicts of public rooms and the user's rooms, with unread counts, in three queries."""
    rooms = list(Room.objects.filter(Q(kind="public") | Q(memberships__user=user)).distinct().order_by("kind", "name"))
    ids = [room.pk for room in rooms]
    last_ids = dict(Message.objects.filter(room_id__in=ids).values("room_id").annotate(last=Max("id"))
                    .values_list("room_id", "last"))
    unread = dict(
        Message.objects.filter(room_id__in=ids, room__memberships__user=user, deleted=False,
                               id__gt=F("room__memberships__last_read_id"))
        .exclude(author=user).values("room_id").annotate(n=Count("id")).values_list("room_id", "n")
    )
    direct = [room.pk for room in rooms if room.kind == "direct"]
    members = {}
    for membership in Membership.objects.filter(room_id__in=direct).select_related("user"):
        members.setdefault(membership.room_id, []).append(membership.user)
    return [
        room_dict(room, user, unread=unread.get(room.pk, 0), last_message_id=last_ids.get(room.pk),
                  members=members.get(room.pk))
        for room in rooms
    ]


def member_room_slugs(*, user):
    return list(Room.objects.filter(memberships__user=user).values_list("slug", flat=True))


def _messages(room):
    return Message.objects.filter(room=room).select_related("author", "room")


def messages_since(*, room, since):
    rows = list(_messages(room).filter(id__gt=since).order_by("id")[: SINCE_LIMIT + 1])
    return rows[:SINCE_LIMIT], len(rows) > SINCE_LIMIT


def messages_before(*, room, before=None, limit=None):
    """The `limit` (default JOIN_NEWEST) messages before id `before` (or the newest), oldest first."""
    limit = limit or JOIN_NEWEST
    rows = _messages(room)
    if before is not None:
        rows = rows.filter(id__lt=before)
    rows = list(rows.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    return list(reversed(rows[:limit])), more


def message_get(*, room, message_id):
    return _messages(room).filter(pk=message_id).first()


def users_by_username(*, usernames):
    """Active users by username; a name typed in another case still finds its user.

    Exact names first (the username index); only names not found that way are matched
    ignoring case (allauth keeps usernames unique regardless of case).
    """
    users = get_user_model().objects.filter(is_active=True)
    found = list(users.filter(username__in=usernames))
    missing = set(usernames) - {user.username for user in found}
    if missing:
        ignoring_case = Q()
        for name in missing:
            ignoring_case |= Q(username__iexact=name)
        found_ids = {user.pk for user in found}
        found += [user for user in users.filter(ignoring_case) if user.pk not in found_ids]
    return found

"""Reads: the rooms a user sees, access checks, messages by id ranges."""

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Lower
from django.utils import timezone

from chat import app_settings
from hub.errors import NotFound
from hub.paging import rows_after, rows_before
from chat.models import Membership, Message, Room
from chat.serializers import room_dict


def room_get(*, slug):
    return Room.objects.filter(slug=slug).first()


def room_is_member(*, room, user):
    return Membership.objects.filter(room=room, user=user).exists()


def room_can_join(*, room, user):
    return room.kind == "public" or room_is_member(room=room, user=user)


def room_visible_to(*, slug, user):
    """The room, if `user` may see it (public, or theirs); NotFound otherwise, the same whether it
    exists or not, so nobody learns which private rooms and conversations there are."""
    room = room_get(slug=slug)
    if room is None or not room_can_join(room=room, user=user):
        raise NotFound(f"No room {slug!r}.")
    return room


def room_member_users(*, room):
    """The room's members as a queryset of users (to look names up among them)."""
    return get_user_model().objects.filter(chat_memberships__room=room)


def room_members(*, room):
    return list(room_member_users(room=room))


def room_read_markers(*, room):
    """Every member's Membership (user loaded) in a room of at most RECEIPTS_MAX_MEMBERS members; None in a
    bigger one. One query that reads a row past the limit at most: a big room's members are never listed."""
    limit = app_settings.RECEIPTS_MAX_MEMBERS
    rows = list(Membership.objects.filter(room=room).select_related("user").order_by("id")[:limit + 1])
    return None if len(rows) > limit else rows


def room_members_matching(*, room, prefix, exclude=None):
    """Up to MEMBER_SUGGESTIONS_MAX active members whose username starts with `prefix` (ignoring case), by name.

    Indexed both ways: PostgreSQL finds the users by prefix (chat migration 0009's pattern index on
    LOWER(username)) or the room's memberships (the (room, user) index), whichever is fewer; SQLite
    cannot use an index for LIKE and reads the room's memberships. Never a scan of every user.
    """
    # The exact-case match too: SQLite's LOWER() folds ASCII only (as in hub.users.users_by_username).
    users = (room_member_users(room=room).filter(is_active=True).annotate(username_lower=Lower("username"))
             .filter(Q(username_lower__startswith=prefix.lower()) | Q(username__startswith=prefix)))
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users.order_by("username_lower", "pk")[:app_settings.MEMBER_SUGGESTIONS_MAX])


def direct_members(*, room):
    """The two members of a direct room (its name depends on who looks); None for other rooms."""
    return room_members(room=room) if room.kind == "direct" else None


def room_for_user(*, room, user):
    """The ROOM dict of one room as `user` sees it (unread count, last message, direct name)."""
    return room_dict(room, user, unread=room_unread(room=room, user=user),
                     last_message_id=room_last_message_id(room=room), members=direct_members(room=room),
                     membership=Membership.objects.filter(room=room, user=user).first())


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
    """ROOM dicts of public rooms and the user's rooms (not the direct ones they hid), with unread counts."""
    hidden = Membership.objects.filter(user=user, hidden=True).values("room_id")
    rooms = list(Room.objects.filter(Q(kind="public") | Q(memberships__user=user)).exclude(pk__in=hidden)
                 .distinct().order_by("kind", "name"))
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
    mine = {m.room_id: m for m in Membership.objects.filter(user=user, room_id__in=ids)}
    return [
        room_dict(room, user, unread=unread.get(room.pk, 0), last_message_id=last_ids.get(room.pk),
                  members=members.get(room.pk), membership=mine.get(room.pk))
        for room in rooms
    ]


def muted_member_ids(*, room, user_ids):
    """Those of `user_ids` who have muted `room` now."""
    now = timezone.now()
    return {m.user_id for m in Membership.objects.filter(room=room, user_id__in=list(user_ids), muted=True)
            if m.is_muted(now)}


def member_room_slugs(*, user):
    return list(Room.objects.filter(memberships__user=user).values_list("slug", flat=True))


def _messages(room):
    return Message.objects.filter(room=room).select_related("author", "room", "edited_by")


def messages_since(*, room, since):
    """Up to SINCE_LIMIT messages after id `since`, oldest first, and whether there were more."""
    return rows_after(_messages(room), since=since, limit=app_settings.SINCE_LIMIT)


def messages_since_seq(*, room, since_seq):
    """Up to SINCE_LIMIT messages after stream position `since_seq`, in position (commit) order, and `more`."""
    return rows_after(_messages(room), since=since_seq, limit=app_settings.SINCE_LIMIT, field="seq")


def messages_changed(*, room, up_to_seq, since_change):
    """Messages at or before position `up_to_seq` edited or deleted after change `since_change`, in change
    order (at most SINCE_LIMIT), and `more`: what a resuming client has, but changed while it was away."""
    return rows_after(_messages(room).filter(seq__lte=up_to_seq), since=since_change, limit=app_settings.SINCE_LIMIT,
                      field="change_seq")


def messages_before(*, room, before=None, limit=None):
    """The `limit` (default JOIN_NEWEST) messages before id `before` (or the newest), oldest first, and `more`."""
    rows, more = rows_before(_messages(room), before=before, limit=limit or app_settings.JOIN_NEWEST)
    return rows[::-1], more


def message_get(*, room, message_id):
    return _messages(room).filter(pk=message_id).first()


def message_by_client_id(*, room, author, client_id):
    return _messages(room).filter(author=author, client_id=client_id).first()


def messages_prunable(*, deleted_before):
    """Messages deleted before that time whose body is still stored: what `message_body_prune` blanks."""
    return Message.objects.filter(deleted=True, deleted_at__lt=deleted_before).exclude(body="")

"""Rooms, direct rooms and who is in them. However a membership ends (here, the admin, a plain
ORM delete, a room or user deleted), chat.signals pushes `removed` to that user's sockets."""

import secrets

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from chat import app_settings, selectors
from chat.models import Membership, Room
from chat.serializers import message_dict, read_marker_dict, room_dict
from hub.errors import BadRequest, Forbidden, Internal, NotFound
from hub.names import normalize_name
from hub.push import push_each, push_to_users, topic_group
from hub.rates import limit
from hub.users import unknown_usernames, users_by_username

CHAT_TOPIC = "chat"
# One answer whoever is unknown, so a reply never says which of several names exist.
UNKNOWN_USERS = "One or more of those users cannot be found."


def lobby_group(slug):
    """Sockets that joined `chat` listen here for rooms they belong to (unread counts)."""
    return topic_group(f"lobby:{slug}")


def short_text(text, length):
    return text if len(text) <= length else text[:length - 1] + "…"


def _push_room_added(room, users):
    """Each new member's `chat` sockets hear of the room, named as that member sees it."""
    members = selectors.direct_members(room=room)
    push_each((user.pk, CHAT_TOPIC, "room", {"room": room_dict(room, user, members=members)}) for user in users)


def _unique_slug(name):
    """A free slug from the name: `dm-` stays reserved for direct rooms, clashes get `-2`, `-3`, ..."""
    length = app_settings.ROOM_SLUG_BASE_LENGTH
    base = slugify(name)[:length] or "room"
    if base.startswith("dm-"):
        base = f"room-{base}"[:length]
    taken = set(Room.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def room_name_clean(name):
    """A room name by the same rule as usernames (hub.names: NFKC, nothing invisible or
    direction-changing), trimmed; BadRequest when empty or too long."""
    try:
        name = normalize_name(name).strip() if isinstance(name, str) else ""
    except ValidationError as error:
        raise BadRequest(f"A room name cannot hold that: {error.messages[0]}")
    if not name or len(name) > app_settings.ROOM_NAME_MAX_LENGTH:
        raise BadRequest(f"A room name is 1 to {app_settings.ROOM_NAME_MAX_LENGTH} characters.")
    return name


# --- making rooms


async def _count_room_open(user):
    # Every attempt counts, failed ones too: probing which usernames exist costs what creating does.
    await limit("chat-open", user.pk, app_settings.ROOM_OPEN_RATE, "Too many new rooms and conversations; wait a while.")


async def room_create_limited(*, creator, name, private, member_usernames):
    """The socket's `create`: counted against the creator's room-open rate, then room_create."""
    await _count_room_open(creator)
    return await database_sync_to_async(room_create)(
        creator=creator, name=name, private=private, member_usernames=member_usernames)


async def dm_open_limited(*, user, username):
    """The socket's `open_dm`: counted against the same rate as `create`, then dm_open."""
    await _count_room_open(user)
    return await database_sync_to_async(dm_open)(user=user, username=username)


def room_create(*, creator, name, private, member_usernames):
    """A new public or private room with the creator (None: staff in the admin) and the named members."""
    name = room_name_clean(name)
    if len(member_usernames) > app_settings.MAX_MEMBERS_AT_CREATE:
        raise BadRequest(f"At most {app_settings.MAX_MEMBERS_AT_CREATE} members at once.")
    members = users_by_username(usernames=member_usernames)
    if unknown_usernames(member_usernames, members):
        raise NotFound(UNKNOWN_USERS)
    users = list({u.pk: u for u in [*([creator] if creator else []), *members]}.values())
    for _ in range(app_settings.SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                room = Room.objects.create(slug=_unique_slug(name), name=name,
                                           kind="private" if private else "public", created_by=creator)
                members_add(room=room, users=users)
            return room
        except IntegrityError:
            continue  # someone took the same slug between our check and insert: pick again
    raise Internal("The room could not be created; try again.")


def dm_open(*, user, username):
    """The one direct room of two users, created on first use; returns (room, created).

    The database keeps one room per pair (`direct_pair` is unique): when both open it at once,
    the second insert fails and finds the first. Opening a conversation the user had hidden
    shows it in their lobby again.
    """
    other = next(iter(users_by_username(usernames=[username])), None)
    if other is None:
        raise NotFound(UNKNOWN_USERS)
    if other.pk == user.pk:
        raise BadRequest("You cannot open a direct conversation with yourself.")
    pair = "-".join(str(pk) for pk in sorted([user.pk, other.pk]))
    room = Room.objects.filter(direct_pair=pair).first()
    if room is not None:
        direct_room_unhide(room, [user])
        return room, False
    try:
        with transaction.atomic():
            part = app_settings.DM_NAME_PART_LENGTH  # usernames run to 150 characters; a room name to 100
            room = Room.objects.create(slug=f"dm-{secrets.token_hex(8)}", direct_pair=pair, kind="direct",
                                       name=f"{short_text(user.username, part)} & {short_text(other.username, part)}",
                                       created_by=user)
            Membership.objects.bulk_create([Membership(room=room, user=user), Membership(room=room, user=other)])
            _push_room_added(room, [user, other])
    except IntegrityError:
        return Room.objects.get(direct_pair=pair), False
    return room, True


def direct_room_unhide(room, users):
    """Show a hidden direct room in these users' lobbies again (they opened it, or it has news)."""
    hidden = list(Membership.objects.filter(room=room, user__in=users, hidden=True).select_related("user"))
    if hidden:
        Membership.objects.filter(pk__in=[m.pk for m in hidden]).update(hidden=False)
        _push_room_added(room, [m.user for m in hidden])


# --- who is in a room


def members_add(*, room, users):
    """Make users members of a public or private room; each new member's open lobbies list it at once.

    Returns the users who were not members before.
    """
    if room.kind == "direct":
        raise BadRequest("A direct conversation has exactly its two people.")
    users = list({user.pk: user for user in users}.values())
    existing = set(Membership.objects.filter(room=room, user__in=users).values_list("user_id", flat=True))
    added = [user for user in users if user.pk not in existing]
    with transaction.atomic():
        # Two staff adding the same member at once: the second insert is skipped, not an error.
        Membership.objects.bulk_create([Membership(room=room, user=user) for user in added], ignore_conflicts=True)
        _push_room_added(room, added)
    return added


def membership_ensure(*, room, user):
    """Joining a public room makes the user a member (so it counts unread for them), marked as such."""
    _, created = Membership.objects.get_or_create(room=room, user=user, defaults={"by_public_join": True})
    if created:  # the user's lobbies, open in other tabs, list the room and count its unread from now on
        _push_room_added(room, [user])
    return created


def room_join(*, room, user, since=None, since_seq=None, since_change=None):
    """A socket's join of a room: the room, its messages (after position `since_seq`, or id `since`, or
    the newest), and `more`; with `since_seq` and `since_change`, also the `changes` (edits, deletes)
    to the messages up to `since_seq` made after that change position. `last_change` is the room's
    change position as read, for the client's next `since_change`. `read_markers`: every member's read
    marker in a room of at most RECEIPTS_MAX_MEMBERS members, None in a bigger one."""
    if room.kind == "public":
        membership_ensure(room=room, user=user)
    last_change = Room.objects.filter(pk=room.pk).values_list("last_change", flat=True).get()  # before the rows
    changes = None
    if since_seq is not None:
        messages, more = selectors.messages_since_seq(room=room, since_seq=since_seq)
        if since_change is not None:
            changes, more_changes = selectors.messages_changed(room=room, up_to_seq=since_seq,
                                                               since_change=since_change)
            more = more or more_changes
    elif since is None:
        messages, _ = selectors.messages_before(room=room)
        more = False  # without `since`, `more` is about gaps, not older history
    else:
        messages, more = selectors.messages_since(room=room, since=since)
    markers = selectors.room_read_markers(room=room)  # after membership_ensure: a new member is listed too
    data = {"room": selectors.room_for_user(room=room, user=user), "messages": [message_dict(m) for m in messages],
            "more": more, "last_change": last_change,
            "read_markers": None if markers is None else [read_marker_dict(m) for m in markers]}
    if changes is not None:
        data["changes"] = [message_dict(m) for m in changes]
    return data


def room_leave(*, room, user):
    """The user leaves a public or private room (their membership ends), or hides a direct one from their lobby."""
    if room.kind != "direct":
        if not Membership.objects.filter(room=room, user=user).delete()[0]:
            raise NotFound(f"No room {room.slug!r}.")
        return
    with transaction.atomic():
        if not Membership.objects.filter(room=room, user=user).update(hidden=True):
            raise NotFound(f"No room {room.slug!r}.")
        push_to_users([user.pk], CHAT_TOPIC, "removed", {"room": room.slug})


def room_mute(*, room, user, muted, until=None):
    """Mute a room for `user` (no notifications, no live lobby bump) until `until` (None: until unmuted), or
    unmute it. Every lobby of theirs hears of it (`room`, with `muted`). Returns the membership."""
    from datetime import datetime

    from django.utils import timezone

    if muted and until is not None:
        if not isinstance(until, datetime) or timezone.is_naive(until):
            raise BadRequest("`until` must be an ISO-8601 time with a time zone, or null.")
        if until <= timezone.now():
            raise BadRequest("`until` is in the past.")
        if until - timezone.now() > app_settings.MUTE_MAX:
            raise BadRequest("`until` is more than a year away: leave it out to mute until unmuted.")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(room=room, user=user).first()
        if membership is None:
            raise NotFound("Join the room to mute it.")
        membership.muted, membership.muted_until = bool(muted), until if muted else None
        membership.save(update_fields=["muted", "muted_until"])
        push_to_users([user.pk], CHAT_TOPIC, "room", {"room": selectors.room_for_user(room=room, user=user)})
    return membership


def member_remove(*, room, by, username):
    """Take someone out of a public or private room: its creator may, or a user with chat.delete_membership."""
    if room.kind == "direct":
        raise BadRequest("A direct conversation has exactly its two people.")
    if room.created_by_id != by.pk and not by.has_perm("chat.delete_membership"):
        raise Forbidden("Only the room's creator or a moderator can remove members.")
    found = users_by_username(usernames=[username], among=selectors.room_member_users(room=room))
    if not found:
        raise NotFound("No such member.")
    Membership.objects.filter(room=room, user__in=found).delete()
    return found[0]


def room_update(*, room, name, kind):
    """Rename a room, or switch a public or private one to the other kind (staff, in the admin).

    Made private, a room keeps only the members it had explicitly: those who were in it only
    because they once joined it while it was public lose their membership (and its sockets).
    """
    with transaction.atomic():
        stored_kind = Room.objects.select_for_update().values_list("kind", flat=True).get(pk=room.pk)
        if kind != stored_kind and {kind, stored_kind} != {"public", "private"}:
            raise BadRequest("A room switches only between public and private.")
        room.name, room.kind = room_name_clean(name), kind
        room.save(update_fields=["name", "kind"])
        if stored_kind == "public" and kind == "private":
            Membership.objects.filter(room=room, by_public_join=True).delete()
    return room

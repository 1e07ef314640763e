"""Writes: rooms, direct rooms, messages, read markers, typing. Live pushes go out after commit.

The socket handlers (chat.topics), the views, the admin and other apps all call these:
one way to do each thing. Bad input raises a hub.errors.HubError subclass.
"""

import functools
import re
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

import notifications
from chat import app_settings, selectors
from chat.models import Membership, Message, Room
from chat.serializers import message_dict, room_dict
from hub import app_settings as hub_settings
from hub.errors import BadRequest, Forbidden, Internal, NotFound
from hub.push import apush_to_topic, push_each, push_to_topic, push_to_users, topic_group
from hub.rates import limit
from hub.redis import delete_matching, get_async_redis, key
from hub.retention import prune_in_batches
from hub.users import unknown_usernames, user_dict, users_by_username
from presence import api as presence

CHAT_TOPIC = "chat"


def lobby_group(slug):
    """Sockets that joined `chat` listen here for rooms they belong to (unread counts)."""
    return topic_group(f"lobby:{slug}")


def _short(text, length):
    return text if len(text) <= length else text[:length - 1] + "…"


# --- rooms


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
    """A room name trimmed, or BadRequest when it is empty or too long."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > app_settings.ROOM_NAME_MAX_LENGTH:
        raise BadRequest(f"A room name is 1 to {app_settings.ROOM_NAME_MAX_LENGTH} characters.")
    return name


def room_create(*, creator, name, private, member_usernames):
    """A new public or private room with the creator (None: staff in the admin) and the named members."""
    return _room_store(creator, room_name_clean(name), private, _members_clean(member_usernames))


async def room_create_rate_limited(*, creator, name, private, member_usernames):
    """The socket's `create`: the same checks, then the creator's room rate, then room_create's write."""
    name, member_usernames = room_name_clean(name), _members_clean(member_usernames)
    await limit("chat-create", creator.pk, app_settings.ROOM_CREATE_RATE, "Too many new rooms; wait a while.")
    return await database_sync_to_async(_room_store)(creator, name, private, member_usernames)


def _members_clean(member_usernames):
    if len(member_usernames) > app_settings.MAX_MEMBERS_AT_CREATE:
        raise BadRequest(f"At most {app_settings.MAX_MEMBERS_AT_CREATE} members at once.")
    return member_usernames


def _room_store(creator, name, private, member_usernames):
    members = users_by_username(usernames=member_usernames)
    unknown = unknown_usernames(member_usernames, members)
    if unknown:
        raise NotFound(f"No such user: {', '.join(unknown)}.")
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
    """The one direct room of two users, created on first use (a unique slug guards the race)."""
    other = next(iter(users_by_username(usernames=[username])), None)
    if other is None:
        raise NotFound(f"No such user: {username}.")
    if other.pk == user.pk:
        raise BadRequest("You cannot open a direct conversation with yourself.")
    low, high = sorted([user.pk, other.pk])
    slug = f"dm-{low}-{high}"
    room = selectors.room_get(slug=slug)
    if room is not None:
        return room, False
    try:
        with transaction.atomic():
            # Usernames run to 150 characters; a room name to 100.
            part = app_settings.DM_NAME_PART_LENGTH
            name = f"{_short(user.username, part)} & {_short(other.username, part)}"
            room = Room.objects.create(slug=slug, name=name, kind="direct", created_by=user)
            Membership.objects.bulk_create([Membership(room=room, user=user), Membership(room=room, user=other)])
            _push_room_added(room, [user, other])
    except IntegrityError:
        return selectors.room_get(slug=slug), False
    return room, True


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
    """Joining a public room makes the user a member (so it counts unread for them)."""
    _, created = Membership.objects.get_or_create(room=room, user=user)
    return created


def room_join(*, room, user, since):
    """A socket's join of a room: the room, its messages (after `since`, or the newest), and `more`."""
    if room.kind == "public":
        membership_ensure(room=room, user=user)
    if since is None:
        messages, _ = selectors.messages_before(room=room)
        more = False  # without `since`, `more` is about gaps, not older history
    else:
        messages, more = selectors.messages_since(room=room, since=since)
    return {"room": selectors.room_for_user(room=room, user=user), "messages": [message_dict(m) for m in messages],
            "more": more}


# --- messages


def body_clean(body):
    """A message body trimmed, or BadRequest when it is not a string, empty or too long."""
    if not isinstance(body, str):
        raise BadRequest("`body` must be a string.")
    body = body.strip()
    if not body:
        raise BadRequest("A message cannot be empty.")
    if len(body) > app_settings.BODY_MAX_LENGTH:
        raise BadRequest(f"A message is at most {app_settings.BODY_MAX_LENGTH} characters.")
    return body


def message_send(*, room, author, body, client_id=None):
    """Store a message once per client_id; returns (message, created). Pushes after commit."""
    return _message_store(room, author, body_clean(body), client_id)


async def message_post(*, room, author, body, client_id=None):
    """The socket's send: checked, within the author's send rate, stored once, then whoever it concerns notified."""
    body = body_clean(body)
    await limit("chat-send", author.pk, app_settings.SEND_RATE, "Too many messages; wait a moment.")
    message, created = await database_sync_to_async(_message_store)(room, author, body, client_id)
    if created:
        await message_notify(message)
    return message


def _message_store(room, author, body, client_id):
    if room.kind != "public" and not selectors.room_is_member(room=room, user=author):
        # Joined while a member, removed since (the socket's join authorization is stale).
        raise Forbidden("You are no longer a member of this room.")
    if client_id is not None:
        existing = selectors.message_by_client_id(room=room, author=author, client_id=client_id)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(room=room, author=author, body=body, client_id=client_id)
            _push_message(message)
    except IntegrityError:
        # A concurrent retry with the same client_id won the race between our lookup and
        # our insert (the unique constraint stopped a second row): answer with its message.
        existing = selectors.message_by_client_id(room=room, author=author, client_id=client_id)
        if existing is None:
            raise
        return existing, False
    return message, True


def _push_message(message):
    room = message.room
    push_to_topic(room.topic, "message", {"message": message_dict(message)})
    # One push for the lobby of every member; each socket counts its own unread (see chat.topics).
    push_to_topic(CHAT_TOPIC, "_room_message", {"room": room.slug, "message_id": message.pk,
                                                "author_id": message.author_id}, group=lobby_group(room.slug))


async def message_notify(message):
    """Notify whoever a new message concerns (mention_notify decides who); returns the notifications."""
    room = message.room
    if room.kind != "direct" and not _mentioned_names(message.body):
        return []
    # Who is looking matters only in a direct room (two people): never list a big room.
    present = {entry["id"] for entry in await presence.list_present(room.topic)} if room.kind == "direct" else set()
    return await database_sync_to_async(mention_notify)(message=message, present_user_ids=present)


@functools.cache
def _mention_pattern():
    # Django's username characters, up to the user model's longest username.
    return re.compile(rf"(?<![\w@])@([\w.@+-]{{1,{hub_settings.USERNAME_MAX_LENGTH}}})")


def _mentioned_names(body):
    """The first MENTIONS_MAX distinct @names of a body; later ones are plain text."""
    names = dict.fromkeys(name.rstrip(".") for name in _mention_pattern().findall(body))
    return list(names)[:app_settings.MENTIONS_MAX]


def mention_notify(*, message, present_user_ids):
    """@username mentions of members, and direct messages to someone not looking, notify them.

    Names are found as everywhere else (hub.users: exact, then ignoring case).
    """
    room = message.room
    names = _mentioned_names(message.body)
    # Looked up among the members only: a mention costs an index lookup, never a scan of all users.
    members = {u.pk: u for u in users_by_username(usernames=names, among=selectors.room_member_users(room=room))}
    recipients = set(members)
    if room.kind == "direct":
        members = {u.pk: u for u in selectors.room_members(room=room)}  # the two of them
        recipients |= {uid for uid in members if uid not in present_user_ids}
    recipients.discard(message.author_id)
    if not recipients:
        return []
    author = _short(message.author.username, app_settings.MENTION_AUTHOR_LENGTH)  # the verb holds 255
    verb = (f"{author} sent you a message" if room.kind == "direct"
            else f"{author} mentioned you in {room.name}")
    return notifications.notify([members[uid] for uid in recipients], verb, actor=message.author, target=room,
                                url=f"/chat/{room.slug}/", data={"room": room.slug, "message_id": message.pk})


def _changeable(room, user, message_id):
    message = selectors.message_get(room=room, message_id=message_id)
    if message is None or message.deleted:
        raise NotFound("No such message.")
    if message.author_id != user.pk and not user.is_staff:
        raise Forbidden("Only the author or staff can change a message.")
    return message


def message_edit(*, room, user, message_id, body):
    """Change a message's body (its author or staff); everyone in the room gets `edited`."""
    return _message_change(room, user, message_id, "edited", body=body_clean(body))


def message_delete(*, room, user, message_id):
    """Mark a message deleted (its author or staff): the row and id stay, the body goes off the wire."""
    return _message_change(room, user, message_id, "deleted", deleted=True)


def _message_change(room, user, message_id, event, **changes):
    message = _changeable(room, user, message_id)
    now = timezone.now()
    changes["edited_at"] = now
    if changes.get("deleted"):
        changes["deleted_at"] = now  # the body is blanked DELETED_BODY_RETENTION_DAYS later
    with transaction.atomic():
        for field, value in changes.items():
            setattr(message, field, value)
        message.save(update_fields=list(changes))
        push_to_topic(room.topic, event, {"message": message_dict(message)})
    return message


def message_body_prune(*, now, dry_run=False, batch_size):
    """Blank the bodies of messages deleted more than DELETED_BODY_RETENTION_DAYS ago, batch by batch.

    The row, its id and its place in the room stay (clients show a deleted message); nothing is
    pushed, since the protocol never sent a deleted message's body. Returns how many were
    blanked (with `dry_run`, how many would be, and nothing changes).
    """
    stale = selectors.messages_prunable(deleted_before=now - timedelta(days=app_settings.DELETED_BODY_RETENTION_DAYS))
    if dry_run:
        return stale.count()
    return prune_in_batches(stale, batch_size=batch_size, apply=lambda rows: rows.update(body=""))


# --- read markers and typing


def read_marker_move(*, room, user, up_to, conn_id):
    """Move the user's marker forward (never back); others in the room and the user's lobbies hear of it."""
    last_id = selectors.room_last_message_id(room=room) or 0
    up_to = min(up_to, last_id)
    with transaction.atomic():
        membership, _ = Membership.objects.select_for_update().get_or_create(room=room, user=user)
        if up_to <= membership.last_read_id:
            return membership.last_read_id  # not moved (or no messages yet): nothing to tell
        membership.last_read_id = up_to
        membership.save(update_fields=["last_read_id"])
        unread = selectors.room_unread(room=room, user=user)
        push_to_topic(room.topic, "read", {"user": user_dict(user), "up_to": up_to}, exclude_conn=conn_id)
        push_to_users([user.pk], CHAT_TOPIC, "unread", {"room": room.slug, "unread": unread, "last_message_id": last_id})
    return up_to


async def typing_relay(*, room, user, typing, conn_id):
    """Tell the room's others that `user` is (not) typing; beyond a few relays per second, quietly nothing."""
    slot = key("typing", room.pk, user.pk, int(time.time() * app_settings.TYPING_RELAYS_PER_SEC))
    if await get_async_redis().set(slot, 1, nx=True, px=2000):
        await apush_to_topic(room.topic, "typing", {"user": user_dict(user), "typing": typing}, exclude_conn=conn_id)


def typing_forget(*, user_id):
    """A deleted user's typing slots go with them (they expire within 2 s anyway)."""
    delete_matching("typing", "*", user_id, "*")

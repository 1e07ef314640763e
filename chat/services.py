"""Writes: rooms, direct rooms, messages, read markers. Live pushes go out after commit."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

import notifications
from chat import selectors
from chat.models import BODY_MAX_LENGTH, Membership, Message, Room
from chat.serializers import message_dict, room_dict
from hub.errors import BadRequest, Forbidden, Internal, NotFound
from hub.push import group_send_many, push_message, send_batch, send_on_commit, topic_group
from hub.users import user_dict

CHAT_TOPIC = "chat"
MAX_MEMBERS_AT_CREATE = 100
SLUG_ATTEMPTS = 3
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]{1,150})")


def lobby_group(slug):
    """Sockets that joined `chat` listen here for rooms they belong to (unread counts)."""
    return topic_group(f"lobby:{slug}")


def _push_room_added(room, users):
    pushes = []
    members = selectors.room_members(room=room) if room.kind == "direct" else None
    for user in users:
        pushes.append((user.pk, CHAT_TOPIC, "room", {"room": room_dict(room, user, members=members)}))
    send_batch(pushes)


def _short(text, length):
    return text if len(text) <= length else text[:length - 1] + "…"


def _unique_slug(name):
    """A free slug from the name: `dm-` stays reserved for direct rooms, clashes get `-2`, `-3`, ..."""
    base = slugify(name)[:60] or "room"
    if base.startswith("dm-"):
        base = f"room-{base}"[:60]
    taken = set(Room.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def room_create(*, creator, name, private, member_usernames):
    """A new public or private room with the creator and the named members."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BadRequest("A room name is 1 to 100 characters.")
    if len(member_usernames) > MAX_MEMBERS_AT_CREATE:
        raise BadRequest(f"At most {MAX_MEMBERS_AT_CREATE} members at once.")
    members = selectors.users_by_username(usernames=set(member_usernames))
    known = {u.username.lower() for u in members}
    unknown = {name for name in member_usernames if name.lower() not in known}
    if unknown:
        raise NotFound(f"No such user: {', '.join(sorted(unknown))}.")
    users = list({u.pk: u for u in [creator, *members]}.values())
    for attempt in range(SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                room = Room.objects.create(slug=_unique_slug(name), name=name,
                                           kind="private" if private else "public", created_by=creator)
                Membership.objects.bulk_create([Membership(room=room, user=u) for u in users])
                send_on_commit(_push_room_added, room, users)
            return room
        except IntegrityError:
            continue  # someone took the same slug between our check and insert: pick again
    raise Internal("The room could not be created; try again.")


def dm_open(*, user, username):
    """The one direct room of two users, created on first use (a unique slug guards the race)."""
    other = next(iter(selectors.users_by_username(usernames=[username])), None)
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
            name = f"{_short(user.username, 48)} & {_short(other.username, 48)}"
            room = Room.objects.create(slug=slug, name=name, kind="direct", created_by=user)
            Membership.objects.bulk_create([Membership(room=room, user=user), Membership(room=room, user=other)])
            send_on_commit(_push_room_added, room, [user, other])
    except IntegrityError:
        return selectors.room_get(slug=slug), False
    return room, True


def membership_ensure(*, room, user):
    """Joining a public room makes the user a member (so it counts unread for them)."""
    _, created = Membership.objects.get_or_create(room=room, user=user)
    return created


def clean_body(body):
    if not isinstance(body, str):
        raise BadRequest("`body` must be a string.")
    body = body.strip()
    if not body:
        raise BadRequest("A message cannot be empty.")
    if len(body) > BODY_MAX_LENGTH:
        raise BadRequest(f"A message is at most {BODY_MAX_LENGTH} characters.")
    return body


def message_send(*, room, author, body, client_id=None):
    """Store a message once per client_id; returns (message, created). Pushes after commit."""
    body = clean_body(body)
    if room.kind != "public" and not selectors.room_is_member(room=room, user=author):
        # Joined while a member, removed since (the socket's join authorization is stale).
        raise Forbidden("You are no longer a member of this room.")
    if client_id is not None:
        existing = _message_by_client_id(room, author, client_id)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(room=room, author=author, body=body, client_id=client_id)
            send_on_commit(_push_message, message)
    except IntegrityError:
        # A concurrent retry with the same client_id won the race between our lookup and
        # our insert (the unique constraint stopped a second row): answer with its message.
        existing = _message_by_client_id(room, author, client_id)
        if existing is None:
            raise
        return existing, False
    return message, True


def _message_by_client_id(room, author, client_id):
    return Message.objects.filter(room=room, author=author, client_id=client_id).select_related("author", "room").first()


def _push_message(message):
    data = message_dict(message)
    group_send_many([topic_group(message.room.topic)], push_message(message.room.topic, "message", {"message": data}))
    # One push for the lobby of every member; each socket counts its own unread (see chat.topics).
    group_send_many([lobby_group(message.room.slug)], push_message(
        CHAT_TOPIC, "_room_message", {"room": message.room.slug, "message_id": message.pk,
                                      "author_id": message.author_id}))


def mention_notify(*, message, present_user_ids):
    """@username mentions of members, and direct messages to someone not looking, notify them."""
    room = message.room
    names = {name.rstrip(".") for name in MENTION.findall(message.body)}
    if room.kind == "direct":
        members = {u.pk: u for u in selectors.room_members(room=room)}  # the two of them
        recipients = {uid for uid in members if uid != message.author_id and uid not in present_user_ids}
    elif names:
        members = {u.pk: u for u in selectors.room_members(room=room, usernames=names)}
        recipients = set()
    else:
        return []
    recipients |= {u.pk for u in members.values() if u.username in names and u.pk != message.author_id}
    if not recipients:
        return []
    author = _short(message.author.username, 100)  # keeps the verb within its 255 characters
    verb = (f"{author} sent you a message" if room.kind == "direct"
            else f"{author} mentioned you in {room.name}")
    return notifications.notify([members[uid] for uid in recipients], verb, actor=message.author, target=room,
                                url=f"/chat/{room.slug}/", data={"room": room.slug, "message_id": message.pk})


def _editable(message, user):
    if message is None or message.deleted:
        raise NotFound("No such message.")
    if message.author_id != user.pk and not user.is_staff:
        raise Forbidden("Only the author or staff can change a message.")


def message_edit(*, room, user, message_id, body):
    body = clean_body(body)
    message = selectors.message_get(room=room, message_id=message_id)
    _editable(message, user)
    with transaction.atomic():
        message.body, message.edited_at = body, timezone.now()
        message.save(update_fields=["body", "edited_at"])
        send_on_commit(group_send_many, [topic_group(room.topic)],
                       push_message(room.topic, "edited", {"message": message_dict(message)}))
    return message


def message_delete(*, room, user, message_id):
    message = selectors.message_get(room=room, message_id=message_id)
    _editable(message, user)
    with transaction.atomic():
        message.deleted, message.edited_at = True, timezone.now()
        message.save(update_fields=["deleted", "edited_at"])
        send_on_commit(group_send_many, [topic_group(room.topic)],
                       push_message(room.topic, "deleted", {"message": message_dict(message)}))
    return message


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
        send_on_commit(group_send_many, [topic_group(room.topic)], push_message(
            room.topic, "read", {"user": user_dict(user), "up_to": up_to}, exclude_conn=conn_id))
        send_on_commit(send_batch, [(user.pk, CHAT_TOPIC, "unread",
                                     {"room": room.slug, "unread": unread, "last_message_id": last_id})])
    return up_to

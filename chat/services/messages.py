"""Messages, read markers, typing: who may do what in a room, checked on every event, and the pushes."""

import functools
import re
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.utils import timezone

import notifications
from chat import app_settings, selectors
from chat.models import Membership, Message
from chat.serializers import message_dict
from chat.services.rooms import CHAT_TOPIC, direct_room_unhide, lobby_group, short_text
from hub import app_settings as hub_settings
from hub.errors import BadRequest, Forbidden, NotFound
from hub.push import apush_to_topic, push_batch, push_to_topic, push_to_users
from hub.rates import limit
from hub.redis import delete_matching, get_async_redis, key
from hub.retention import prune_in_batches
from hub.users import user_dict, users_by_username
from presence import api as presence

NO_LONGER_MEMBER = "You are no longer a member of this room."


def _require_member(room, user):
    """A private or direct room's events need a member: a socket's join authorization may be stale."""
    if room.kind != "public" and not selectors.room_is_member(room=room, user=user):
        raise Forbidden(NO_LONGER_MEMBER)


async def chat_write_allowed(user):
    """Count one write (send, edit, delete) against the user's HUB_CHAT_RATE, or raise RateLimited."""
    await limit("chat-send", user.pk, app_settings.SEND_RATE, "Too many messages; wait a moment.")


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
    await chat_write_allowed(author)
    message, created = await database_sync_to_async(_message_store)(room, author, body, client_id)
    if created:
        await message_notify(message)
    return message


def _message_store(room, author, body, client_id):
    _require_member(room, author)
    if client_id is not None:
        existing = selectors.message_by_client_id(room=room, author=author, client_id=client_id)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(room=room, author=author, body=body, client_id=client_id)
            _push_message(message)
            if room.kind == "direct":
                direct_room_unhide(room, selectors.room_members(room=room))  # news brings a hidden conversation back
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
    with push_batch():  # one outbox row and one round trip for both
        push_to_topic(room.topic, "message", {"message": message_dict(message)})
        # One push for the lobby of every member; each socket counts its own unread (see chat.topics).
        push_to_topic(CHAT_TOPIC, "_room_message", {"room": room.slug, "message_id": message.pk,
                                                    "author_id": message.author_id}, group=lobby_group(room.slug))


async def message_notify(message):
    """Notify whoever a new message concerns (mention_notify decides who); returns the notifications.

    Nobody is notified of a room they are looking at (a socket of theirs joined to it now).
    """
    room = message.room
    names = _mentioned_names(message.body)
    if room.kind != "direct" and not names:
        return []
    # Looking includes appearing offline: hidden from others, they still have the room open.
    if room.kind == "direct":
        present = await presence.looking(room.topic)  # two people at most
    else:
        # Never list a big room: ask about the mentioned members only (at most MENTIONS_MAX, one Redis call a set).
        mentioned = await database_sync_to_async(_mentioned_members)(room, names)
        present = await presence.looking(room.topic, [user.pk for user in mentioned])
    return await database_sync_to_async(mention_notify)(message=message, present_user_ids=present)


@functools.cache
def _mention_pattern():
    # Django's username characters, up to the user model's longest username.
    return re.compile(rf"(?<![\w@])@([\w.@+-]{{1,{hub_settings.USERNAME_MAX_LENGTH}}})")


def _mentioned_names(body):
    """The first MENTIONS_MAX distinct @names of a body; later ones are plain text."""
    names = dict.fromkeys(name.rstrip(".") for name in _mention_pattern().findall(body))
    return list(names)[:app_settings.MENTIONS_MAX]


def _mentioned_members(room, names):
    # Looked up among the members only: a mention costs an index lookup, never a scan of all users.
    return users_by_username(usernames=names, among=selectors.room_member_users(room=room))


def mention_notify(*, message, present_user_ids):
    """@username mentions of members, and direct messages, notify them unless they are looking at the room
    (`present_user_ids`: users with a socket joined to it now).

    Names are found as everywhere else (hub.users: exact, then ignoring case).
    """
    room = message.room
    members = {u.pk: u for u in _mentioned_members(room, _mentioned_names(message.body))}
    recipients = set(members)
    if room.kind == "direct":
        members = {u.pk: u for u in selectors.room_members(room=room)}  # the two of them
        recipients |= set(members)
    recipients -= set(present_user_ids)  # they see the message arrive: a notification would only repeat it
    recipients.discard(message.author_id)
    recipients -= selectors.muted_member_ids(room=room, user_ids=recipients)  # they asked for quiet
    recipients = sorted(recipients)[:app_settings.MENTIONS_MAX]  # two members may answer to one name, in case
    if not recipients:
        return []
    author = short_text(message.author.username, app_settings.MENTION_AUTHOR_LENGTH)  # the verb holds 255
    verb = (f"{author} sent you a message" if room.kind == "direct"
            else f"{author} mentioned you in {room.name}")
    return notifications.notify([members[uid] for uid in recipients], verb, actor=message.author, target=room,
                                url=f"/chat/{room.slug}/", data={"room": room.slug, "message_id": message.pk},
                                kind="chat.direct" if room.kind == "direct" else "chat.mention")


def _changeable(room, user, message_id, permission):
    """The message, if `user` may change it: its author while still in the room, or a moderator
    (`permission`: chat.change_message or chat.delete_message; superusers have every one)."""
    moderator = user.has_perm(permission)
    if not moderator:
        _require_member(room, user)
    message = selectors.message_get(room=room, message_id=message_id)
    if message is None or message.deleted:
        raise NotFound("No such message.")
    if message.author_id != user.pk and not moderator:
        raise Forbidden("Only the author or a moderator can change a message.")
    return message


def message_edit(*, room, user, message_id, body):
    """Change a message's body (its author or a moderator); everyone in the room gets `edited`."""
    return _message_change(room, user, message_id, "edited", "chat.change_message", body=body_clean(body))


def message_delete(*, room, user, message_id):
    """Mark a message deleted (its author or a moderator): the row and id stay, the body goes off the wire."""
    return _message_change(room, user, message_id, "deleted", "chat.delete_message", deleted=True)


def _message_change(room, user, message_id, event, permission, **changes):
    message = _changeable(room, user, message_id, permission)
    now = timezone.now()
    # A moderator's change is shown as theirs; the author's own clears the mark.
    changes.update(edited_at=now, edited_by=None if user.pk == message.author_id else user)
    if changes.get("deleted"):
        changes["deleted_at"] = now  # the body is blanked DELETED_BODY_RETENTION_DAYS later
    with transaction.atomic():
        changes["change_seq"] = room.take_change()  # resuming clients get this change (`since_change`)
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
    """Move the user's marker forward (never back); others in the room and the user's lobbies hear of it.

    Only a member has a marker: reading never makes anyone a member (0 for a public room's non-member).
    """
    last_id = selectors.room_last_message_id(room=room) or 0
    up_to = min(up_to, last_id)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(room=room, user=user).first()
        if membership is None:
            _require_member(room, user)
            return 0
        if up_to <= membership.last_read_id:
            return membership.last_read_id  # not moved (or no messages yet): nothing to tell
        membership.last_read_id = up_to
        membership.save(update_fields=["last_read_id"])
        unread = selectors.room_unread(room=room, user=user)
        with push_batch():
            push_to_topic(room.topic, "read", {"user": user_dict(user), "up_to": up_to}, exclude_conn=conn_id)
            push_to_users([user.pk], CHAT_TOPIC, "unread", {"room": room.slug, "unread": unread,
                                                            "last_message_id": last_id})
    return up_to


async def typing_relay(*, room, user, typing, conn_id):
    """Tell the room's others that `user` is (not) typing; beyond a few relays per second, quietly nothing."""
    slot = key("typing", room.pk, user.pk, int(time.time() * app_settings.TYPING_RELAYS_PER_SEC))
    if await get_async_redis().set(slot, 1, nx=True, px=2000):
        if room.kind != "public":  # after the throttle: at most a few membership lookups per second
            await database_sync_to_async(_require_member)(room, user)
        await apush_to_topic(room.topic, "typing", {"user": user_dict(user), "typing": typing}, exclude_conn=conn_id,
                             droppable=True)


def room_history(*, room, user, before, limit):
    """`limit` messages before id `before` (or the newest), oldest first, for someone still allowed to read them."""
    _require_member(room, user)
    return selectors.messages_before(room=room, before=before, limit=limit)[0]


def member_suggestions(*, room, user, prefix):
    """Members whose username starts with `prefix` (the composer's @name completion), for someone allowed
    to see them: MEMBER_SUGGESTIONS_MAX at most, `user` left out (mentioning oneself notifies nobody)."""
    _require_member(room, user)
    return selectors.room_members_matching(room=room, prefix=prefix, exclude=user)


def typing_forget(*, user_id):
    """A deleted user's typing slots go with them (they expire within 2 s anyway)."""
    delete_matching("typing", "*", user_id, "*")

"""hub.testing.verify_resume on Hub's own topics (issue 11 §7): a room, notifications, announcements, presence.

Each model below is how the bundled client keeps that topic (docs/protocol.md), written as
plain data so equal states compare equal; each test runs random actions through the
services (as the socket, views, admin and commands call them) with a fixed seed per run.
"""

import pytest
from channels.db import database_sync_to_async

from chat.services import messages as chat
from hub.testing import StreamModel, verify_resume
from notifications import services as notifications
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)
SEEDS = (1, 2)


# --- a room: messages by stream position, with their edits and deletes


def _message(m):
    return m["body"], m["deleted"], m["edited_at"]


def _room_state(data):
    return {"messages": {m["seq"]: _message(m) for m in data["messages"]}, "last_change": data["last_change"]}


def _room_apply(state, event, payload):
    if event in ("message", "edited", "deleted"):
        m = payload["message"]
        return {"messages": {**state["messages"], m["seq"]: _message(m)},
                "last_change": max(state["last_change"], m["change_seq"])}
    return state  # typing, read markers, presence: not part of the message list


def _room_merge(state, data):
    merged = {**state["messages"]}
    for m in data.get("changes", []) + data["messages"]:
        merged[m["seq"]] = _message(m)
    return {"messages": merged, "last_change": data["last_change"]}


ROOM = StreamModel(
    topic="room:lounge",
    state=_room_state,
    apply=_room_apply,
    resume=lambda state: {"since_seq": max(state["messages"], default=0), "since_change": state["last_change"]},
    merge=_room_merge,
)


@pytest.mark.parametrize("seed", SEEDS)
async def test_room(amake_user, amake_room, connect, seed):
    reader, ann, bob = await amake_user("reader"), await amake_user("ann"), await amake_user("bob")
    room = await amake_room("lounge", kind="private", members=[reader, ann, bob])
    sent = []

    @database_sync_to_async
    def send(rng):
        author = rng.choice([ann, bob])
        sent.append(chat.message_send(room=room, author=author, body=f"m{len(sent)} by {author.username}")[0])

    @database_sync_to_async
    def edit(rng):
        if sent:
            message = rng.choice(sent)
            chat.message_edit(room=room, user=message.author, message_id=message.pk, body=f"{message.body} (edited)")

    @database_sync_to_async
    def delete(rng):
        if sent:
            message = sent.pop(rng.randrange(len(sent)))  # a deleted message cannot be edited (not_found)
            chat.message_delete(room=room, user=message.author, message_id=message.pk)

    await verify_resume(connect, reader, ROOM, [send, send, edit, delete], steps=24, seed=seed)


# --- notifications: the unread count and each notification's unread flag


def _notifications_state(data):
    return {"unread": data["unread"], "items": {n["id"]: (n["seq"], n["unread"]) for n in data["items"]}}


def _notifications_apply(state, event, payload):
    if event == "new":
        n = payload["notification"]
        return {"unread": payload["unread"], "items": {**state["items"], n["id"]: (n["seq"], n["unread"])}}
    if event == "unread":
        read = set(state["items"]) if payload["read_ids"] == "all" else set(payload["read_ids"])
        return {"unread": payload["unread"],
                "items": {nid: (seq, unread and nid not in read) for nid, (seq, unread) in state["items"].items()}}
    return state


def _notifications_merge(state, data):
    joined = _notifications_state(data)
    still_unread = set(data["unread_ids"])  # of those up to `since_seq`: the others were read meanwhile
    kept = {nid: (seq, unread and nid in still_unread) for nid, (seq, unread) in state["items"].items()}
    return {"unread": joined["unread"], "items": {**kept, **joined["items"]}}


NOTIFICATIONS = StreamModel(
    topic="notifications",
    state=_notifications_state,
    apply=_notifications_apply,
    resume=lambda state: {"since_seq": max((seq for seq, _ in state["items"].values()), default=0)},
    merge=_notifications_merge,
)


@pytest.mark.parametrize("seed", SEEDS)
async def test_notifications(amake_user, connect, seed):
    user = await amake_user("reader")

    @database_sync_to_async
    def notify(rng):
        notifications.notify(user, f"note {rng.randrange(1000)}")

    @database_sync_to_async
    def read_one(rng):
        ids = list(Notification.objects.filter(recipient=user, unread=True).values_list("id", flat=True))
        if ids:
            notifications.notification_mark_read(user=user, ids=[rng.choice(ids)])

    @database_sync_to_async
    def read_all(rng):
        notifications.notification_mark_all_read(user=user)

    await verify_resume(connect, user, NOTIFICATIONS, [notify, notify, notify, read_one, read_all], steps=18,
                        seed=seed)


# --- announcements: the active ones the user has not dismissed


def _announcements_apply(state, event, payload):
    if event in ("new", "updated"):
        a = payload["announcement"]
        return {**state, a["id"]: (a["title"], a["body"], a["level"])}
    if event in ("deleted", "dismissed"):
        return {aid: a for aid, a in state.items() if aid != payload["id"]}
    return state


ANNOUNCEMENTS = StreamModel(
    topic="announcements",
    state=lambda data: {a["id"]: (a["title"], a["body"], a["level"]) for a in data["items"]},
    apply=_announcements_apply,
    resume=lambda state: {},  # a join answers every active announcement
)


@pytest.mark.parametrize("seed", SEEDS)
async def test_announcements(amake_user, connect, seed):
    from notifications.models import Announcement

    user = await amake_user("reader")

    def active():
        return list(Announcement.objects.order_by("id"))

    @database_sync_to_async
    def announce(rng):
        notifications.announce(f"title {rng.randrange(1000)}", "body")

    @database_sync_to_async
    def update(rng):
        if rows := active():
            a = rng.choice(rows)
            notifications.announcement_update(announcement=a, title=f"{a.title}!", body=a.body, level="warning",
                                              expires_at=None)

    @database_sync_to_async
    def delete(rng):
        if rows := active():
            notifications.announcement_delete(announcement=rng.choice(rows))

    @database_sync_to_async
    def dismiss(rng):
        if rows := active():
            notifications.announcement_dismiss(user=user, announcement_id=rng.choice(rows).pk)

    await verify_resume(connect, user, ANNOUNCEMENTS, [announce, announce, update, delete, dismiss], steps=16,
                        seed=seed)


# --- presence: who is online, and their status


def _presence_apply(state, event, payload):
    if event != "diff":
        return state
    state = {name: status for name, status in state.items()
             if name not in {u["username"] for u in payload["leaves"]}}
    return {**state, **{u["username"]: u["status"] for u in payload["joins"] + payload["updates"]}}


PRESENCE = StreamModel(
    topic="presence",
    state=lambda data: {u["username"]: u["status"] for u in data["users"]},
    apply=_presence_apply,
    resume=lambda state: {},  # a join answers everyone present
)


@pytest.mark.parametrize("seed", SEEDS)
async def test_presence(amake_user, connect, seed):
    reader = await amake_user("reader")
    others = [await amake_user(f"other{i}") for i in range(3)]
    sockets = {user.pk: [] for user in others}

    async def arrive(rng):
        user = rng.choice(others)
        sockets[user.pk].append(await connect(user))

    async def leave(rng):
        if open_ := [pk for pk, tabs in sockets.items() if tabs]:
            tabs = sockets[rng.choice(open_)]
            await tabs.pop(rng.randrange(len(tabs))).disconnect()

    async def step_away(rng):
        if open_ := [tab for tabs in sockets.values() for tab in tabs]:
            await rng.choice(open_).ok("hub", "heartbeat", {"status": rng.choice(["away", "online"])})

    # Leaves and status changes are coalesced and throttled for up to about 2 s: wait that long for quiet.
    await verify_resume(connect, reader, PRESENCE, [arrive, arrive, leave, step_away], steps=12, seed=seed,
                        quiet_s=2.5)

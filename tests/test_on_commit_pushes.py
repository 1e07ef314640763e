"""Every push sent on commit: a rolled-back write sends nothing; the same write committed sends it.

The sites are found by reading the apps' services (services.py, services/, notifications/preferences.py:
every function that calls a push
helper with its on-commit default), so a new push site without a case below fails
`test_every_on_commit_push_site_has_a_rollback_case`.
"""

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

import notifications
from chat import services as chat
from collab import services as collab
from games import services as games
from chat.models import Membership
from notifications import preferences, services as notes

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
PUSH_HELPERS = {"push_to_topic", "push_to_users", "push_each"}


@dataclass
class Case:
    covers: str  # "app.function" of the function holding the push call
    observe: tuple  # (topic the observer joins, topic and event it expects)
    action: Callable  # action(world) -> None: the write, run once rolled back, once committed


def on_commit_push_sites():
    """{"app.function"} of every function in the apps' services and signals that calls a push helper
    without on_commit=False."""
    sites = set()
    paths = [*ROOT.glob("*/services.py"), *ROOT.glob("*/services/*.py"), *ROOT.glob("*/signals.py"),
             ROOT / "notifications" / "preferences.py"]
    for path in sorted(paths):
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(function):
                if (isinstance(call, ast.Call) and getattr(call.func, "id", None) in PUSH_HELPERS
                        and not any(k.arg == "on_commit" for k in call.keywords)):
                    app = path.parent.name if path.parent.name != "services" else path.parent.parent.name
                    sites.add(f"{app}.{function.name}")
    return sites


CASES = {
    "room_create": Case("chat._push_room_added", ("chat", "chat", "room"), lambda w: chat.room_create(
        creator=w.alice, name="Ops", private=True, member_usernames=["bob"])),
    "dm_open": Case("chat._push_room_added", ("chat", "chat", "room"), lambda w: chat.dm_open(
        user=w.carol, username="bob")),
    "members_add": Case("chat._push_room_added", ("chat", "chat", "room"), lambda w: chat.members_add(
        room=w.private_room, users=[w.bob])),
    "room_mute": Case("chat.room_mute", ("chat", "chat", "room"),
                      lambda w: chat.room_mute(room=w.room, user=w.bob, muted=True)),
    "room_leave (a direct room hidden)": Case("chat.room_leave", ("chat", "chat", "removed"),
                                              lambda w: chat.room_leave(room=w.dm, user=w.bob)),
    "membership deleted (the ORM)": Case("chat.membership_ended", ("chat", "chat", "removed"),
                                         lambda w: w.memberships.filter(room=w.room, user=w.bob).delete()),
    "message_send": Case("chat._push_message", ("room:lounge", "room:lounge", "message"), lambda w: chat.message_send(
        room=w.room, author=w.alice, body="hello")),
    "message_send (lobby)": Case("chat._push_message", ("chat", "chat", "unread"), lambda w: chat.message_send(
        room=w.room, author=w.alice, body="hello")),
    "message_edit": Case("chat._message_change", ("room:lounge", "room:lounge", "edited"), lambda w: chat.message_edit(
        room=w.room, user=w.alice, message_id=w.message.pk, body="changed")),
    "message_delete": Case("chat._message_change", ("room:lounge", "room:lounge", "deleted"),
                           lambda w: chat.message_delete(room=w.room, user=w.alice, message_id=w.message.pk)),
    "read_marker_move": Case("chat.read_marker_move", ("room:lounge", "room:lounge", "read"),
                             lambda w: chat.read_marker_move(room=w.room, user=w.alice, up_to=w.message.pk,
                                                             conn_id=None)),
    "notify": Case("notifications.notify", ("notifications", "notifications", "new"),
                   lambda w: notifications.notify(w.bob, "hello")),
    "notification_mark_read": Case("notifications.notification_mark_read", ("notifications", "notifications", "unread"),
                                   lambda w: notes.notification_mark_read(user=w.bob, ids=[w.notification.pk])),
    "notification_mark_all_read": Case("notifications.notification_mark_all_read",
                                       ("notifications", "notifications", "unread"),
                                       lambda w: notes.notification_mark_all_read(user=w.bob)),
    "announce": Case("notifications.announce", ("announcements", "announcements", "new"),
                     lambda w: notifications.announce("Title", "Body")),
    "announcement_update": Case("notifications.announcement_update", ("announcements", "announcements", "updated"),
                                lambda w: notes.announcement_update(announcement=w.announcement, title="New",
                                                                    body="Body", level="info", expires_at=None)),
    "announcement_delete": Case("notifications.announcement_delete", ("announcements", "announcements", "deleted"),
                                lambda w: notes.announcement_delete(announcement=w.fresh_announcement())),
    "announcement_dismiss": Case("notifications.announcement_dismiss", ("announcements", "announcements", "dismissed"),
                                 lambda w: notes.announcement_dismiss(user=w.bob, announcement_id=w.announcement.pk)),
    "announcement_withdraw": Case("notifications.announcement_withdraw", ("announcements", "announcements", "withdrawn"),
                                  lambda w: notes.announcement_withdraw(announcement=w.fresh_announcement())),
    "announcements_publish_due": Case("notifications.announcements_publish_due",
                                      ("announcements", "announcements", "new"),
                                      lambda w: notes.announcements_publish_due(now=w.later)),
    "preferences_set": Case("notifications.preferences_set", ("notifications", "notifications", "preferences"),
                            lambda w: preferences.preferences_set(user=w.bob, do_not_disturb=True)),
    "announcements turned off": Case(
        "notifications._announcements_refresh", ("announcements", "announcements", "refresh"),
        lambda w: preferences.preferences_set(user=w.bob, deliveries={"notifications.announcement": "off"})),
    "document_share": Case("collab.document_share", ("doc:778", "doc:778", "access"),
                           lambda w: collab.document_share(document=w.document(), by=w.alice, remove_editor="bob")),
    "document_delete": Case("collab.document_delete", ("doc:778", "doc:778", "removed"),
                            lambda w: collab.document_delete(document=w.document(), by=w.alice)),
    "apply_update": Case("collab.apply_update", ("doc:778", "doc:778", "update"), lambda w: collab.apply_update(
        document_id=778, user=w.alice, update=b"\x01\x01\x01\x00\x04\x01\x07content\x01x\x00")),
    "invite": Case("games.invite", ("games", "games", "invited"),
                   lambda w: games.invite(creator=w.carol, opponent_username="bob")),
    "quick_match": Case("games.quick_match", ("games", "games", "matched"), lambda w: games.quick_match(user=w.alice)),
    "a move": Case("games._save_and_push", ("game:777", "game:777", "state"),
                   lambda w: games.move(game_id=777, user=w.alice, column=0, seen_moves=0)),
    "a game ends": Case("games._finish", ("games", "games", "finished"),
                        lambda w: games.resign(game_id=777, user=w.alice)),
}


def test_every_on_commit_push_site_has_a_rollback_case():
    assert on_commit_push_sites() == {case.covers for case in CASES.values()}


class World:
    """Users, a public and a private room, a message by alice, a notification for bob and an announcement."""

    def __init__(self, make_user, make_room):
        from notifications.models import Announcement

        self.alice, self.bob, self.carol = make_user("alice"), make_user("bob"), make_user("carol")
        self.room = make_room("lounge", members=[self.alice, self.bob])
        self.private_room = make_room("plans", kind="private", members=[self.alice])
        self.dm, _ = chat.dm_open(user=self.alice, username="bob")
        self.memberships = Membership.objects
        self.message, _ = chat.message_send(room=self.room, author=self.alice, body="first")
        [self.notification] = notifications.notify(self.bob, "earlier")
        self.announcement = notifications.announce("Earlier", "Body")
        from datetime import timedelta

        from django.utils import timezone

        notifications.announce("Scheduled", "Body", publish_at=timezone.now() + timedelta(hours=1))
        self.later = timezone.now() + timedelta(hours=2)  # when it is due
        self._announcements = Announcement.objects
        from collab.models import Document
        from games.models import Game, QuickMatch

        self._documents = Document.objects
        self._documents.create(pk=778, title="Shared", owner=self.alice, public=True).editors.add(self.bob)
        Game.objects.create(pk=777, first=self.alice, second=self.bob, clock_first_ms=300_000, clock_second_ms=300_000)
        QuickMatch.objects.create(user=self.bob)

    def document(self):
        return self._documents.get(pk=778)  # a fresh instance: a delete, even rolled back, empties the pk

    def fresh_announcement(self):
        return self._announcements.get(pk=self.announcement.pk)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_rolled_back_write_pushes_nothing_and_the_committed_one_pushes(name, make_user, make_room, connect):
    case = CASES[name]
    world = await database_sync_to_async(World)(make_user, make_room)
    join_topic, topic, event = case.observe
    observer = await connect(world.bob)  # bob: a member, the recipient, not the author
    await observer.ok(join_topic, "join")

    def rolled_back():
        with transaction.atomic():
            case.action(world)
            transaction.set_rollback(True)

    await database_sync_to_async(rolled_back)()
    await observer.ok("hub", "heartbeat")  # a round trip: a push sent at once would be here by now
    assert await observer.nothing(0.3, topic=topic, event=event), observer.buffer
    await database_sync_to_async(case.action)(world)
    await observer.expect(topic, event)

"""The notifications and announcements topics through the consumer."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

import notifications
from notifications import app_settings, selectors
from notifications.models import Announcement

pytestmark = pytest.mark.django_db(transaction=True)


async def test_join_without_since_gives_newest_20_newest_first(amake_user, connect):
    alice = await amake_user("alice")
    created = []
    for i in range(25):
        created += await notifications.anotify(alice, f"n{i}")
    comm = await connect(alice)
    data = await comm.ok("notifications", "join")
    assert data["unread"] == 25 and data["more"] is False
    assert [n["verb"] for n in data["items"]] == [f"n{i}" for i in range(24, 4, -1)]


async def test_offline_resume_with_since_and_more(amake_user, connect, monkeypatch):
    alice = await amake_user("alice")
    first = (await notifications.anotify(alice, "seen"))[0]
    for i in range(3):
        await notifications.anotify(alice, f"missed {i}")
    comm = await connect(alice)
    data = await comm.ok("notifications", "join", {"since": first.pk})
    assert [n["verb"] for n in data["items"]] == ["missed 0", "missed 1", "missed 2"] and data["more"] is False
    monkeypatch.setattr(app_settings.AppSettings, "SINCE_LIMIT", 2)
    data = await comm.ok("notifications", "join", {"since": first.pk})
    assert len(data["items"]) == 2 and data["more"] is True
    assert (await comm.error("notifications", "join", {"since": "x"}))["code"] == "bad_request"


async def test_read_syncs_to_every_tab_and_read_all(amake_user, connect):
    alice = await amake_user("alice")
    ids = [n.pk for n in await notifications.anotify(alice, "a")] + [n.pk for n in await notifications.anotify(alice, "b")]
    tab1, tab2 = await connect(alice), await connect(alice)
    for tab in (tab1, tab2):
        await tab.ok("notifications", "join")
    assert await tab1.ok("notifications", "read", {"ids": [ids[0]]}) == {"unread": 1, "read_ids": [ids[0]]}
    for tab in (tab1, tab2):
        assert await tab.expect("notifications", "unread") == {"unread": 1, "read_ids": [ids[0]]}
    await tab2.ok("notifications", "read_all")
    for tab in (tab1, tab2):
        assert await tab.expect("notifications", "unread") == {"unread": 0, "read_ids": "all"}


async def test_nobody_can_read_or_mark_what_is_not_theirs(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    bobs_note = (await notifications.anotify(bob, "private to bob"))[0]
    comm = await connect(alice)
    data = await comm.ok("notifications", "join", {"since": 0})
    assert data["items"] == []
    assert await comm.ok("notifications", "read", {"ids": [bobs_note.pk]}) == {"unread": 0, "read_ids": []}
    assert await comm.ok("notifications", "list", {"limit": 100}) == {"items": []}
    await database_sync_to_async(bobs_note.refresh_from_db)()
    assert bobs_note.unread is True


async def test_list_pages_backwards(amake_user, connect):
    alice = await amake_user("alice")
    ids = [(await notifications.anotify(alice, f"n{i}"))[0].pk for i in range(5)]
    comm = await connect(alice)
    await comm.ok("notifications", "join")
    data = await comm.ok("notifications", "list", {"before": ids[3], "limit": 2})
    assert [n["id"] for n in data["items"]] == [ids[2], ids[1]]
    assert (await comm.error("notifications", "list", {"limit": 101}))["code"] == "bad_request"
    assert (await comm.error("notifications", "read", {"ids": "all"}))["code"] == "bad_request"
    # Beyond 64 bits no database can compare it (SQLite raised OverflowError).
    assert (await comm.error("notifications", "read", {"ids": [ids[0], 2**70]}))["code"] == "bad_request"


async def test_events_need_a_join(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    assert (await comm.error("notifications", "read_all"))["code"] == "not_joined"
    assert (await comm.error("announcements", "dismiss", {"id": 1}))["code"] == "not_joined"


async def test_announcements_join_dismiss_and_expiry(amake_user, connect):
    alice = await amake_user("alice")
    live = await database_sync_to_async(notifications.announce)("Live", "body")

    def expired():
        return Announcement.objects.create(title="Old", body="b", expires_at=timezone.now() - timedelta(hours=1))

    await database_sync_to_async(expired)()
    tab1, tab2 = await connect(alice), await connect(alice)
    for tab in (tab1, tab2):
        data = await tab.ok("announcements", "join")
        assert [a["title"] for a in data["items"]] == ["Live"]
    assert await tab1.ok("announcements", "dismiss", {"id": live.pk}) == {"id": live.pk}
    assert await tab2.expect("announcements", "dismissed") == {"id": live.pk}
    assert (await tab2.ok("announcements", "join", {"since": 0}))["items"] == []
    assert (await tab1.error("announcements", "dismiss", {"id": 999999}))["code"] == "not_found"


async def test_publish_needs_the_add_announcement_permission(amake_user, connect):
    staff, someone = await amake_user("boss", is_superuser=True), await amake_user("someone", is_staff=True)
    boss_sock, other = await connect(staff), await connect(someone)
    await boss_sock.ok("announcements", "join")
    await other.ok("announcements", "join")
    error = await other.error("announcements", "publish", {"title": "x", "body": "y"})
    assert error["code"] == "forbidden"
    data = await boss_sock.ok("announcements", "publish", {"title": "Hello", "body": "World", "level": "critical",
                                                          "expires_at": "2099-01-01T00:00:00Z"})
    assert data["announcement"]["author"]["username"] == "boss"
    push = await other.expect("announcements", "new")
    assert push["announcement"]["title"] == "Hello" and push["announcement"]["expires_at"].startswith("2099")
    for bad in ({"title": "", "body": "y"}, {"title": "t", "body": "y", "level": "loud"},
                {"title": "t", "body": "y", "expires_at": "yesterday"},
                {"title": "t", "body": "y", "expires_at": "2000-01-01T00:00:00Z"},
                {"title": "t", "body": "y", "expires_at": "9999-12-31T23:00:00-14:00"}):
        assert (await boss_sock.error("announcements", "publish", bad))["code"] == "bad_request"


async def test_read_sync_reaches_only_the_readers_sockets(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    mine = (await notifications.anotify(alice, "mine"))[0]
    bobs = (await notifications.anotify(bob, "bob's"))[0]
    tab, other_tab, bob_sock = await connect(alice), await connect(alice), await connect(bob)
    for sock in (tab, other_tab, bob_sock):
        await sock.ok("notifications", "join")
    # A mix of her own id and bob's: only hers changes, bob's is neither marked nor revealed.
    assert await tab.ok("notifications", "read", {"ids": [mine.pk, bobs.pk]}) == {"unread": 0, "read_ids": [mine.pk]}
    assert await other_tab.expect("notifications", "unread") == {"unread": 0, "read_ids": [mine.pk]}
    assert await bob_sock.nothing(0.3)
    data = await bob_sock.ok("notifications", "join")
    assert data["unread"] == 1 and data["items"][0]["unread"] is True
    assert (await tab.ok("notifications", "join", {"since": 0}))["items"][0]["unread"] is False


async def test_a_tab_that_did_not_join_gets_no_pushes(amake_user, connect):
    alice = await amake_user("alice")
    joined, idle = await connect(alice), await connect(alice)
    await joined.ok("notifications", "join")
    await notifications.anotify(alice, "hello")
    assert (await joined.expect("notifications", "new"))["notification"]["verb"] == "hello"
    assert await idle.nothing(0.3)


async def test_resume_after_a_push_while_offline(amake_user, connect):
    """A tab that missed pushes while disconnected gets exactly them, in id order, on its next join."""
    alice = await amake_user("alice")
    tab = await connect(alice)
    await tab.ok("notifications", "join")
    await notifications.anotify(alice, "seen live")
    last_seen = (await tab.expect("notifications", "new"))["notification"]["id"]
    await tab.disconnect()
    missed = [(await notifications.anotify(alice, f"missed {i}"))[0].pk for i in range(3)]
    tab = await connect(alice)
    data = await tab.ok("notifications", "join", {"since": last_seen})
    assert [n["id"] for n in data["items"]] == missed and data["unread"] == 4 and data["more"] is False


async def test_dismiss_reaches_only_that_users_sockets_and_leave_stops_pushes(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    live = await database_sync_to_async(notifications.announce)("Live", "body")
    tab, bob_sock = await connect(alice), await connect(bob)
    for sock in (tab, bob_sock):
        await sock.ok("announcements", "join")
        await sock.ok("announcements", "join")  # a re-join answers again and changes nothing
    await tab.ok("announcements", "dismiss", {"id": live.pk})
    assert await tab.expect("announcements", "dismissed") == {"id": live.pk}
    assert await bob_sock.nothing(0.3)
    assert [a["id"] for a in (await bob_sock.ok("announcements", "join"))["items"]] == [live.pk]
    await bob_sock.ok("announcements", "leave")
    await database_sync_to_async(notifications.announce)("Second", "body")
    assert (await tab.expect("announcements", "new"))["announcement"]["title"] == "Second"
    assert await bob_sock.nothing(0.3)


async def test_expired_announcements_are_hidden_and_cannot_be_dismissed(amake_user, connect):
    alice = await amake_user("alice")

    def make():
        now = timezone.now()
        Announcement.objects.create(title="Later", body="b", expires_at=now + timedelta(hours=1))
        return Announcement.objects.create(title="Gone", body="b", expires_at=now - timedelta(seconds=1))

    gone = await database_sync_to_async(make)()
    tab = await connect(alice)
    data = await tab.ok("announcements", "join", {"since": 0})
    assert [a["title"] for a in data["items"]] == ["Later"]
    assert data["items"][0]["expires_at"].endswith("Z")
    assert (await tab.error("announcements", "dismiss", {"id": gone.pk}))["code"] == "not_found"
    assert (await tab.error("announcements", "dismiss", {"id": "x"}))["code"] == "bad_request"

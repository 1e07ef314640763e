"""The Python API: recipients of every kind, on-commit pushes, rollback, bad arguments."""

from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group
from django.db import transaction

import notifications
from notifications.models import Announcement, Notification

pytestmark = pytest.mark.django_db(transaction=True)


async def joined(connect, user):
    comm = await connect(user)
    await comm.ok("notifications", "join")
    return comm


async def test_notify_a_user_pushes_to_every_socket_of_theirs_and_no_one_else(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    tab1, tab2, bobs = await joined(connect, alice), await joined(connect, alice), await joined(connect, bob)
    created = await notifications.anotify(alice, "Your export is ready", actor=bob, target=bob, level="success",
                                          data={"rows": 3}, url="/exports/1")
    assert len(created) == 1
    for tab in (tab1, tab2):
        push = await tab.expect("notifications", "new")
        assert push["unread"] == 1
        n = push["notification"]
        assert n["id"] == created[0].pk and n["verb"] == "Your export is ready" and n["level"] == "success"
        assert n["actor"]["username"] == "bob" and n["data"] == {"rows": 3} and n["url"] == "/exports/1"
        assert n["target"] == {"type": "auth.user", "id": str(bob.pk), "repr": "bob"}
        assert n["unread"] is True and n["created_at"].endswith("Z")
    assert await bobs.nothing(0.3)


async def test_queryset_iterable_and_group_recipients(amake_user, connect):
    users = [await amake_user(name) for name in ("a1", "a2", "a3")]
    from django.contrib.auth import get_user_model

    qs = get_user_model().objects.filter(username__in=["a1", "a2"])
    assert len(await notifications.anotify(qs, "to a queryset")) == 2
    assert len(await notifications.anotify(users, "to a list")) == 3

    def make_group():
        group = Group.objects.create(name="team")
        group.user_set.add(users[0], users[2])
        return group

    group = await database_sync_to_async(make_group)()
    comm = await joined(connect, users[2])
    created = await notifications.anotify(group, "to a group")
    assert sorted(n.recipient_id for n in created) == [users[0].pk, users[2].pk]
    assert (await comm.expect("notifications", "new"))["notification"]["verb"] == "to a group"


def test_rollback_stores_and_pushes_nothing(make_user):
    alice = make_user("alice")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with transaction.atomic():
            notifications.notify(alice, "never")
            raise Boom
    assert not Notification.objects.exists()
    # Nothing was pushed either: the push is an on-commit callback that never ran.
    assert not transaction.get_connection().run_on_commit


async def test_rollback_sends_no_push_to_an_open_socket(amake_user, connect):
    alice = await amake_user("alice")
    comm = await joined(connect, alice)

    def rolled_back():
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                notifications.notify(alice, "never")
                raise RuntimeError("rollback")

    await database_sync_to_async(rolled_back)()
    assert await comm.nothing(0.5)
    assert await database_sync_to_async(Notification.objects.count)() == 0


def test_push_happens_only_after_commit(make_user):
    alice = make_user("alice")
    with transaction.atomic():
        notifications.notify(alice, "later")
        assert len(transaction.get_connection().run_on_commit) == 1  # scheduled, not sent


@pytest.mark.parametrize("kwargs, error", [
    ({"verb": ""}, ValueError),
    ({"verb": "x" * 256}, ValueError),
    ({"verb": "ok", "level": "loud"}, ValueError),
    ({"verb": "ok", "data": {"when": object()}}, TypeError),
    ({"verb": "ok", "data": {"nan": float("nan")}}, ValueError),
    ({"verb": "ok", "data": [1, 2]}, TypeError),
    ({"verb": "ok", "url": 5}, ValueError),
    ({"verb": "ok", "url": "javascript:alert(1)"}, ValueError),
    ({"verb": "ok", "url": "//evil.example/"}, ValueError),  # another site to a browser
    ({"verb": "ok", "url": "/\\evil.example/"}, ValueError),  # browsers read \ as /
    ({"verb": "ok", "url": "/a b"}, ValueError),
    ({"verb": "ok", "url": "/" + "x" * 500}, ValueError),
    ({"verb": "ok", "actor": "bob"}, TypeError),
    ({"verb": "ok", "target": "not a model"}, TypeError),
])
def test_bad_arguments_raise_at_call_time(make_user, kwargs, error):
    alice = make_user("alice")
    verb = kwargs.pop("verb")
    with pytest.raises(error):
        notifications.notify(alice, verb, **kwargs)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("recipient", ["alice", 5, None, [object()]])
def test_bad_recipients_raise(make_user, recipient):
    make_user("alice")
    with pytest.raises(TypeError):
        notifications.notify(recipient, "hi")


def test_bulk_insert_is_one_query(make_user, django_assert_max_num_queries):
    users = [make_user(f"u{i}") for i in range(30)]
    with django_assert_max_num_queries(8):  # begin, positions, insert, outbox row, commit, counts, outbox delete; never per recipient
        notifications.notify(users, "hello")
    assert Notification.objects.count() == 30


def test_created_rows_carry_their_ids_in_creation_order(make_user):
    users = [make_user(f"u{i}") for i in range(3)]
    created = notifications.notify(users, "hello")
    ids = [n.pk for n in created]
    assert None not in ids and ids == sorted(ids)
    assert ids == list(Notification.objects.order_by("id").values_list("id", flat=True))


def test_notify_costs_the_same_queries_for_2_or_20_recipients(make_user, django_assert_num_queries,
                                                              django_capture_on_commit_callbacks):
    """One insert, and after the commit one grouped unread count, whatever the number of recipients."""
    users = [make_user(f"u{i}") for i in range(20)]
    notifications.notify(users[:5], "earlier")
    for recipients in (users[:2], users):
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                # the recipients' preferences for the kind, savepoint, the positions (one upsert), insert,
                # outbox row, release
                with django_assert_num_queries(6):
                    notifications.notify(recipients, "now")
            assert len(callbacks) == 1
            with django_assert_num_queries(1):  # the counts of every recipient, for their pushes
                callbacks[0]()
            transaction.set_rollback(True)


def test_no_recipients_creates_and_pushes_nothing(make_user, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    empty = Group.objects.create(name="empty")
    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert notifications.notify(get_user_model().objects.none(), "nobody") == []
            assert notifications.notify(empty, "nobody") == []
    assert callbacks == [] and not Notification.objects.exists()


async def test_announce_reaches_everyone_who_joined(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    socks = []
    for user in (alice, bob):
        comm = await connect(user)
        await comm.ok("announcements", "join")
        socks.append(comm)
    announcement = await database_sync_to_async(notifications.announce)("Maintenance", "Tonight at 22:00",
                                                                         level="warning")
    for comm in socks:
        push = await comm.expect("announcements", "new")
        assert push["announcement"]["id"] == announcement.pk
        assert push["announcement"]["level"] == "warning" and push["announcement"]["expires_at"] is None


@pytest.mark.parametrize("kwargs, error", [
    ({"title": ""}, ValueError),
    ({"title": "x" * 201}, ValueError),
    ({"body": "  "}, ValueError),
    ({"body": "x" * 5001}, ValueError),
    ({"level": "meh"}, ValueError),
    ({"expires_at": datetime(2099, 1, 1)}, ValueError),  # naive
    ({"expires_at": datetime(2000, 1, 1, tzinfo=dt_timezone.utc)}, ValueError),  # past
    ({"expires_at": "tomorrow"}, ValueError),
    ({"author": "boss"}, TypeError),
])
def test_announce_rejects_bad_values(kwargs, error):
    args = {"title": "t", "body": "b", **kwargs}
    with pytest.raises(error):
        notifications.announce(args.pop("title"), args.pop("body"), **args)
    assert not Announcement.objects.exists()


def test_announce_stores_then_pushes_on_commit(make_user, django_capture_on_commit_callbacks):
    boss = make_user("boss", is_staff=True)
    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            announcement = notifications.announce("  Title  ", "Body", level="critical", author=boss)
        assert len(callbacks) == 1  # nothing is pushed before the commit
    announcement.refresh_from_db()
    assert (announcement.title, announcement.level, announcement.author) == ("Title", "critical", boss)


async def test_announce_rolled_back_pushes_and_stores_nothing(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    await comm.ok("announcements", "join")

    def rolled_back():
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                notifications.announce("Never", "shown")
                raise RuntimeError("rollback")

    await database_sync_to_async(rolled_back)()
    assert await comm.nothing(0.5)
    assert not await database_sync_to_async(Announcement.objects.exists)()


@pytest.mark.parametrize("url, ok", [
    ("/chat/general/", True), ("https://example.com/x?y=1", True), ("/", True),
    ("javascript:alert(1)", False), ("//evil.example", False), ("JAVASCRIPT:x", False), ("/x\ny", False),
])
def test_the_url_field_itself_refuses_unsafe_urls_so_the_admin_does_too(make_user, url, ok):
    from django.core.exceptions import ValidationError

    note = Notification(recipient=make_user("alice"), verb="v", url=url)
    if ok:
        note.full_clean()
    else:
        with pytest.raises(ValidationError):
            note.full_clean()

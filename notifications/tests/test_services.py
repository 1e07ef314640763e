"""The Python API: recipients of every kind, on-commit pushes, rollback, bad arguments."""

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
    with django_assert_max_num_queries(4):  # savepoint/insert/release; never one per recipient
        notifications.notify(users, "hello")
    assert Notification.objects.count() == 30


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


@pytest.mark.parametrize("kwargs", [{"title": ""}, {"level": "meh"}, {"body": "x" * 5001}])
def test_announce_rejects_bad_values(kwargs):
    args = {"title": "t", "body": "b", **kwargs}
    with pytest.raises(ValueError):
        notifications.announce(args.pop("title"), args.pop("body"), **args)
    assert not Announcement.objects.exists()

"""A user's notification stream positions (Notification.seq): per recipient, in commit order."""

import pytest
from django.db import connection, transaction

import notifications
from notifications.models import Notification, take_seqs
from tests.commit_order import store_first_commit_last

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_recipient_numbers_their_notifications_and_one_statement_serves_many(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first = notifications.notify([alice, bob], "one")
    second = notifications.notify(alice, "two")
    assert sorted((n.recipient.username, n.seq) for n in first) == [("alice", 1), ("bob", 1)]
    assert [n.seq for n in second] == [2]
    with transaction.atomic():
        assert take_seqs([bob.pk, alice.pk, bob.pk]) == {alice.pk: range(3, 4), bob.pk: range(2, 4)}
        transaction.set_rollback(True)  # positions taken by a rolled-back transaction are given back
    assert Notification.objects.create(recipient=bob, verb="three").seq == 2
    with pytest.raises(RuntimeError, match="inside the transaction"):
        take_seqs([alice.pk])


async def test_a_join_after_a_position_answers_what_came_after_it(amake_user, connect):
    alice = await amake_user("alice")
    for verb in ("a", "b", "c"):
        await notifications.anotify(alice, verb)
    comm = await connect(alice)
    data = await comm.ok("notifications", "join", {"since_seq": 1})
    assert [(n["seq"], n["verb"]) for n in data["items"]] == [(2, "b"), (3, "c")] and data["more"] is False
    await notifications.anotify(alice, "d")
    assert (await comm.expect("notifications", "new"))["notification"]["seq"] == 4


def test_a_notification_stored_first_but_committed_last_takes_the_later_position(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: a second transaction cannot store meanwhile")
    alice = make_user("alice")
    first, second = store_first_commit_last(lambda body: notifications.notify(alice, body)[0])
    assert first.seq < second.seq

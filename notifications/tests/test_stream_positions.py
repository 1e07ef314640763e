"""A user's notification stream positions (Notification.seq): per recipient, in commit order."""

import threading
import time

import pytest
from django.db import connection, transaction

import notifications
from notifications.models import Notification, take_seqs

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
    stored, release, results = threading.Event(), threading.Event(), {}

    def slow():
        try:
            with transaction.atomic():
                results["slow"] = notifications.notify(alice, "1st")[0]
                stored.set()
                release.wait(20)
        finally:
            connection.close()

    def quick():
        try:
            results["quick"] = notifications.notify(alice, "2nd")[0]
        finally:
            connection.close()

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    threads[0].start()
    assert stored.wait(20)
    threads[1].start()
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while True:  # the second writer waits on alice's stream row (seen in PostgreSQL itself)
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0] >= 1:
                break
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            time.sleep(0.02)
    assert "quick" not in results
    release.set()
    for thread in threads:
        thread.join(20)
    assert results["slow"].seq < results["quick"].seq

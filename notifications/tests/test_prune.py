"""notification_prune: read notifications past HUB_NOTIFICATION_RETENTION_DAYS go, in batches; nothing else does."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification, take_seqs
from notifications.services import notification_prune

pytestmark = pytest.mark.django_db

NOW = timezone.now()
CUTOFF = NOW - timedelta(days=90)


def make(user, *, created_at, unread=False, verb="hi"):
    return Notification.objects.create(recipient=user, verb=verb, unread=unread, created_at=created_at)


def remaining():
    return set(Notification.objects.values_list("verb", flat=True))


def test_read_ones_older_than_the_retention_go_and_nothing_else(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    make(alice, verb="read, just past the edge", created_at=CUTOFF - timedelta(microseconds=1))
    make(alice, verb="read, long ago", created_at=NOW - timedelta(days=400))
    make(bob, verb="bob's, read long ago", created_at=NOW - timedelta(days=91))
    make(alice, verb="read, exactly at the edge", created_at=CUTOFF)
    make(alice, verb="read, just inside", created_at=CUTOFF + timedelta(seconds=1))
    make(alice, verb="unread, long ago", created_at=NOW - timedelta(days=400), unread=True)
    make(bob, verb="bob's, unread long ago", created_at=NOW - timedelta(days=400), unread=True)
    make(bob, verb="bob's, read today", created_at=NOW)

    assert notification_prune(now=NOW, batch_size=100) == 3
    assert remaining() == {"read, exactly at the edge", "read, just inside", "unread, long ago",
                           "bob's, unread long ago", "bob's, read today"}
    assert notification_prune(now=NOW, batch_size=100) == 0  # idempotent
    assert len(remaining()) == 5


def test_a_dry_run_counts_and_changes_nothing(make_user):
    alice = make_user("alice")
    for days in (91, 200, 10):
        make(alice, verb=f"{days}", created_at=NOW - timedelta(days=days))
    assert notification_prune(now=NOW, dry_run=True, batch_size=1) == 2
    assert remaining() == {"91", "200", "10"}


def test_it_works_in_batches_of_at_most_batch_size(make_user):
    alice = make_user("alice")
    with transaction.atomic():
        seqs = take_seqs([alice.pk] * 12)[alice.pk]
        Notification.objects.bulk_create([
            Notification(recipient=alice, verb=f"old {i}", unread=i % 3 == 0, created_at=NOW - timedelta(days=100 + i),
                         seq=seqs[i])
            for i in range(12)
        ])
    with CaptureQueriesContext(connection) as queries:
        assert notification_prune(now=NOW, batch_size=3) == 8  # 4 of the 12 are unread
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 2, the unread ones skipped by the search, never deleted
    assert Notification.objects.count() == 4 and not Notification.objects.filter(unread=False).exists()


def test_the_retention_comes_from_the_setting(make_user, settings):
    alice = make_user("alice")
    make(alice, verb="read two days ago", created_at=NOW - timedelta(days=2))
    make(alice, verb="read an hour ago", created_at=NOW - timedelta(hours=1))
    settings.HUB_NOTIFICATION_RETENTION_DAYS = 1
    assert notification_prune(now=NOW, batch_size=10) == 1
    settings.HUB_NOTIFICATION_RETENTION_DAYS = 0  # every read one, at the next run
    assert notification_prune(now=NOW, batch_size=10) == 1
    assert remaining() == set()

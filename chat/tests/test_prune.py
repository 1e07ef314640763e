"""message_body_prune: a deleted message's body is blanked HUB_DELETED_BODY_RETENTION_DAYS after its deletion."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import services
from chat.models import Message

pytestmark = pytest.mark.django_db

NOW = timezone.now()
CUTOFF = NOW - timedelta(days=30)


@pytest.fixture
def room(make_room):
    return make_room("lounge")


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def make(room, author, body, *, deleted_at=None, created_at=None):
    return Message.objects.create(room=room, author=author, body=body, deleted=deleted_at is not None,
                                  deleted_at=deleted_at, edited_at=deleted_at,
                                  created_at=created_at or NOW - timedelta(days=400))


def bodies():
    return dict(Message.objects.values_list("body", "deleted").order_by("id"))


def test_deleting_a_message_records_when(room, alice):
    message = make(room, alice, "oops")
    before = timezone.now()
    services.message_delete(room=room, user=alice, message_id=message.pk)
    message.refresh_from_db()
    assert message.deleted and message.deleted_at >= before and message.edited_at == message.deleted_at
    assert message.body == "oops"  # kept for now: staff may still read it in the admin


def test_bodies_deleted_longer_ago_than_the_retention_are_blanked_and_nothing_else(room, alice, make_user):
    bob = make_user("bob")
    past_edge = make(room, alice, "past the edge", deleted_at=CUTOFF - timedelta(microseconds=1))
    long_ago = make(room, bob, "long ago", deleted_at=NOW - timedelta(days=300))
    make(room, alice, "at the edge", deleted_at=CUTOFF)
    make(room, alice, "inside", deleted_at=CUTOFF + timedelta(seconds=1))
    make(room, bob, "old but not deleted")

    assert services.message_body_prune(now=NOW, batch_size=10) == 2
    assert bodies() == {"": True, "at the edge": True, "inside": True, "old but not deleted": False}
    for message in (past_edge, long_ago):
        stored = Message.objects.get(pk=message.pk)  # the row, its id and its deletion stay
        assert (stored.body, stored.deleted, stored.deleted_at) == ("", True, message.deleted_at)
    assert services.message_body_prune(now=NOW, batch_size=10) == 0  # idempotent


def test_a_dry_run_counts_and_changes_nothing(room, alice):
    make(room, alice, "one", deleted_at=NOW - timedelta(days=31))
    make(room, alice, "two", deleted_at=NOW - timedelta(days=29))
    assert services.message_body_prune(now=NOW, dry_run=True, batch_size=10) == 1
    assert bodies() == {"one": True, "two": True}


def test_it_works_in_batches(room, alice, settings):
    settings.HUB_DELETED_BODY_RETENTION_DAYS = 0
    for i in range(7):
        make(room, alice, f"gone {i}", deleted_at=NOW - timedelta(minutes=i + 1))
        make(room, alice, f"kept {i}")
    with CaptureQueriesContext(connection) as queries:
        assert services.message_body_prune(now=NOW, batch_size=3) == 7
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 3  # 3 + 3 + 1
    assert Message.objects.filter(body="").count() == 7 and Message.objects.filter(deleted=False).count() == 7


def test_messages_deleted_before_the_column_existed_count_from_their_deletion(room, alice):
    """The migration fills deleted_at from the edited_at their deletion set (created_at if missing)."""
    migration = importlib.import_module("chat.migrations.0005_message_deleted_at")
    deleted_then = NOW - timedelta(days=40)
    old = Message.objects.create(room=room, author=alice, body="old", deleted=True, edited_at=deleted_then)
    odd = Message.objects.create(room=room, author=alice, body="odd", deleted=True, created_at=deleted_then)
    live = Message.objects.create(room=room, author=alice, body="live", edited_at=deleted_then)
    migration.backfill_deleted_at(apps, None)
    assert Message.objects.get(pk=old.pk).deleted_at == deleted_then
    assert Message.objects.get(pk=odd.pk).deleted_at == deleted_then
    assert Message.objects.get(pk=live.pk).deleted_at is None
    assert services.message_body_prune(now=NOW, batch_size=10) == 2

"""manage.py hub_prune: every app's pruning, what it prints, --dry-run, the lock, two runs at once, a live server."""

import asyncio
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from chat.models import Message
from hub import retention
from hub.redis import get_sync_redis, key, reset_clients
from notifications.models import Notification, take_seqs
from hub.testing.servers import ROOT, Browserless, DaphneServer, database_url, ws_connect, ws_request

PASSWORD = "correct-Horse-battery-9"


def stale_rows(user, room, *, notifications=1, messages=1):
    """Read notifications and deleted messages older than the default retentions, and fresh ones."""
    long_ago = timezone.now() - timedelta(days=365)
    with transaction.atomic():
        seqs = iter(take_seqs([user.pk] * (notifications + 2))[user.pk])
        Notification.objects.bulk_create(
            [Notification(recipient=user, verb=f"old {i}", unread=False, created_at=long_ago, seq=next(seqs))
             for i in range(notifications)]
            + [Notification(recipient=user, verb="new", unread=False, seq=next(seqs)),
               Notification(recipient=user, verb="unread", created_at=long_ago, seq=next(seqs))])
    with transaction.atomic():
        seqs = iter(room.take_seqs(messages + 1))
        Message.objects.bulk_create(
            [Message(room=room, author=user, body=f"deleted {i}", deleted=True, deleted_at=long_ago, seq=next(seqs))
             for i in range(messages)]
            + [Message(room=room, author=user, body="kept", seq=next(seqs))])


def prune_output(*args):
    from io import StringIO

    out = StringIO()
    call_command("hub_prune", *args, stdout=out)
    return out.getvalue().splitlines()


def counts():
    return Notification.objects.count(), Message.objects.exclude(body="").count()


@pytest.mark.django_db
def test_it_prunes_every_app_and_says_what_it_did(make_user, make_room):
    stale_rows(make_user("alice"), make_room("lounge"), notifications=3, messages=2)
    assert counts() == (5, 3)
    assert prune_output() == ["notifications: 3 read notifications older than 90 days deleted",
                              "chat: 2 bodies of messages deleted over 30 days ago blanked"]
    assert counts() == (2, 1)
    assert prune_output() == ["notifications: 0 read notifications older than 90 days deleted",
                              "chat: 0 bodies of messages deleted over 30 days ago blanked"]
    assert not get_sync_redis().exists(key("prune-lock"))  # released


@pytest.mark.django_db
def test_a_dry_run_only_counts(make_user, make_room):
    stale_rows(make_user("alice"), make_room("lounge"), notifications=3, messages=2)
    assert prune_output("--dry-run", "--batch-size", "1") == [
        "notifications: 3 read notifications older than 90 days would be deleted",
        "chat: 2 bodies of messages deleted over 30 days ago would be blanked"]
    assert counts() == (5, 3)


@pytest.mark.django_db
def test_while_another_run_holds_the_lock_it_does_nothing(make_user, make_room):
    stale_rows(make_user("alice"), make_room("lounge"))
    get_sync_redis().set(key("prune-lock"), "another run", ex=60)
    assert prune_output() == ["Another hub_prune is running; nothing done."]
    assert counts() == (3, 2)
    assert get_sync_redis().get(key("prune-lock")) == b"another run"  # not ours to release


@pytest.mark.django_db
def test_without_redis_it_prunes_all_the_same(make_user, make_room, monkeypatch, caplog):
    stale_rows(make_user("alice"), make_room("lounge"))
    monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")
    reset_clients()
    try:
        assert prune_output()[0] == "notifications: 1 read notifications older than 90 days deleted"
    finally:
        monkeypatch.undo()
        reset_clients()
    assert counts() == (2, 1)
    assert "pruning without the lock" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_do_no_harm(make_user, make_room):
    """Without the lock (it only saves doubled work): every row pruned once, no errors, nothing else touched."""
    stale_rows(make_user("alice"), make_room("lounge"), notifications=60, messages=30)
    start, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            start.wait()
            results.append(retention.prune_all(batch_size=4))
        except Exception as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    totals = {}
    for result in results:
        for pruner, count in result:
            totals[pruner.name] = totals.get(pruner.name, 0) + count
    assert totals == {"notifications": 60, "chat": 30}
    assert counts() == (2, 1)


def test_a_pruner_name_is_taken_once():
    def prune(*, now, dry_run, batch_size):
        return 0

    retention.register("test-thing", prune, what=lambda: "things", done="dropped")
    try:
        retention.register("test-thing", prune, what=lambda: "things", done="dropped")  # the same again: fine
        with pytest.raises(ValueError, match="already registered"):
            retention.register("test-thing", lambda **kwargs: 0, what=lambda: "things", done="dropped")
    finally:
        retention.unregister("test-thing")
    names = [p.name for p in retention.registered()]
    assert "test-thing" not in names and {"notifications", "chat"} <= set(names)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_pruning_from_cron_while_a_socket_sends_messages(amake_user, amake_room):
    """A real server, a real socket sending all along, and hub_prune in its own process over thousands of rows."""
    alice = await amake_user("alice", password=PASSWORD)
    room = await amake_room("lounge")
    await database_sync_to_async(stale_rows)(alice, room, notifications=6000, messages=1000)
    with DaphneServer(HUB_CHAT_RATE="100000/1s", HUB_FRAME_RATE="100000/1s") as server:
        client = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
        ws, _ = await ws_connect(server, client)
        assert (await ws_request(ws, "room:lounge", "join"))["ok"]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings_test", "DATABASE_URL": database_url(),
               "REDIS_URL": settings.REDIS_URL}
        prune = await asyncio.create_subprocess_exec(
            sys.executable, "manage.py", "hub_prune", "--batch-size", "20", cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sent_during = 0
        while prune.returncode is None:
            reply = await ws_request(ws, "room:lounge", "send", {"body": f"during {sent_during}"},
                                     ref=f"s{sent_during}", timeout=10)
            assert reply["ok"], reply
            sent_during += 1
        out, err = await prune.communicate()
        assert prune.returncode == 0, err.decode()
        assert out.decode().splitlines() == ["notifications: 6000 read notifications older than 90 days deleted",
                                             "chat: 1000 bodies of messages deleted over 30 days ago blanked"]
        assert sent_during >= 1
        reply = await ws_request(ws, "room:lounge", "history", {"before": 10**9, "limit": 1}, ref="last")
        assert reply["ok"] and reply["data"]["messages"][-1]["body"] == f"during {sent_during - 1}"
        await ws.close()
    assert await database_sync_to_async(counts)() == (2, 1 + sent_during)

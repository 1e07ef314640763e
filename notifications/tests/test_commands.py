"""manage.py notify and announce: success and every error, nothing partially sent."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from notifications.models import Announcement, Notification
from hub.testing.servers import ROOT, database_url

pytestmark = pytest.mark.django_db


def test_notify_sends_to_each_user(make_user, capsys):
    make_user("alice"), make_user("bob")
    call_command("notify", "alice", "bob", "--verb", "Deploy finished", "--level", "success", "--url", "/d")
    assert "Sent 2" in capsys.readouterr().out
    assert sorted(Notification.objects.values_list("recipient__username", "verb", "level", "url")) == [
        ("alice", "Deploy finished", "success", "/d"), ("bob", "Deploy finished", "success", "/d")]


def test_notify_with_an_unknown_user_sends_nothing(make_user):
    make_user("alice")
    with pytest.raises(CommandError, match="unknown or inactive user.*ghost"):
        call_command("notify", "alice", "ghost", "--verb", "hi")
    assert not Notification.objects.exists()


@pytest.mark.parametrize("args", [
    ["--verb", ""],
    ["--verb", "   "],
    ["--verb", "x" * 256],
    ["--verb", "hi", "--level", "loud"],
    ["--verb", "hi", "--url", "javascript:alert(1)"],
    [],  # no --verb
])
def test_notify_rejects_bad_values(make_user, args):
    make_user("alice")
    with pytest.raises(CommandError):
        call_command("notify", "alice", *args)
    assert not Notification.objects.exists()


def test_notify_needs_a_username():
    with pytest.raises(CommandError):
        call_command("notify", "--verb", "hi")
    assert not Notification.objects.exists()


@pytest.mark.parametrize("expires_in, hours", [("30m", 0.5), ("2h", 2), ("1d", 24)])
def test_announce_with_expiry(capsys, expires_in, hours):
    from django.utils import timezone

    before = timezone.now()
    call_command("announce", "--title", "Maintenance", "--body", "At ten", "--level", "warning",
                 "--expires-in", expires_in)
    announcement = Announcement.objects.get()
    assert announcement.level == "warning" and announcement.title == "Maintenance"
    assert abs((announcement.expires_at - before).total_seconds() - hours * 3600) < 60
    assert "Published announcement" in capsys.readouterr().out


def test_announce_without_expiry_never_expires():
    call_command("announce", "--title", "Hello", "--body", "World")
    assert Announcement.objects.get().expires_at is None


@pytest.mark.parametrize("args", [
    ["--title", "t", "--body", "b", "--expires-in", "soon"],
    ["--title", "t", "--body", "b", "--expires-in", "0h"],
    ["--title", "t", "--body", "b", "--expires-in", "-2h"],
    ["--title", "t", "--body", "b", "--expires-in", "999999w"],  # past year 9999: overflowed
    ["--title", "", "--body", "b"],
    ["--title", "t", "--body", " "],
    ["--title", "x" * 201, "--body", "b"],
    ["--title", "t", "--body", "b", "--level", "loud"],
    ["--title", "t"],  # no --body
])
def test_announce_rejects_bad_values(args):
    with pytest.raises(CommandError):
        call_command("announce", *args)
    assert not Announcement.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_errors_exit_non_zero_from_the_shell(make_user):
    """As an operator runs it: a separate process, a message on stderr, exit status 1, nothing stored."""
    make_user("alice")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings_test", "DATABASE_URL": database_url(),
           "REDIS_URL": settings.REDIS_URL}
    result = subprocess.run([sys.executable, "manage.py", "notify", "alice", "ghost", "--verb", "hi"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "unknown or inactive user(s): ghost" in result.stderr
    assert not Notification.objects.exists()

"""manage.py notify and announce: success and every error, nothing partially sent."""

import pytest
from django.core.management import CommandError, call_command

from notifications.models import Announcement, Notification

pytestmark = pytest.mark.django_db


def test_notify_sends_to_each_user(make_user, capsys):
    make_user("alice"), make_user("bob")
    call_command("notify", "alice", "bob", "--verb", "Deploy finished", "--level", "success", "--url", "/d")
    assert "Sent 2" in capsys.readouterr().out
    assert sorted(Notification.objects.values_list("recipient__username", "verb", "level", "url")) == [
        ("alice", "Deploy finished", "success", "/d"), ("bob", "Deploy finished", "success", "/d")]


def test_notify_with_an_unknown_user_sends_nothing(make_user):
    make_user("alice")
    with pytest.raises(CommandError, match="unknown user.*ghost"):
        call_command("notify", "alice", "ghost", "--verb", "hi")
    assert not Notification.objects.exists()


@pytest.mark.parametrize("args", [["--verb", ""], ["--verb", "hi", "--level", "loud"], []])
def test_notify_rejects_bad_values(make_user, args):
    make_user("alice")
    with pytest.raises((CommandError, SystemExit)):
        call_command("notify", "alice", *args)
    assert not Notification.objects.exists()


def test_announce_with_expiry(capsys):
    call_command("announce", "--title", "Maintenance", "--body", "At ten", "--level", "warning", "--expires-in", "2h")
    announcement = Announcement.objects.get()
    assert announcement.level == "warning" and announcement.expires_at is not None
    assert "Published announcement" in capsys.readouterr().out


@pytest.mark.parametrize("args", [
    ["--title", "t", "--body", "b", "--expires-in", "soon"],
    ["--title", "t", "--body", "b", "--expires-in", "0h"],
    ["--title", "", "--body", "b"],
    ["--title", "t", "--body", "b", "--level", "loud"],
])
def test_announce_rejects_bad_values(args):
    with pytest.raises((CommandError, SystemExit)):
        call_command("announce", *args)
    assert not Announcement.objects.exists()

"""Email when a person was away (issue 15 §3): a notification still unread HUB_EMAIL_AFTER after it was made,
whose recipient had no live socket since and wants its kind by email, goes out in one digest per person per
window, once; the unsubscribe link; the command and the periodic round."""

import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

import notifications
from notifications import emails, preferences, scheduler
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)
AFTER = 60


@pytest.fixture(autouse=True)
def _short_window(settings, monkeypatch):
    settings.HUB_EMAIL_AFTER = AFTER
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.HUB_SITE_URL = "https://hub.example.com"
    monkeypatch.setattr(scheduler.emailer, "ensure", lambda: None)  # the rounds below are run by hand
    mail.outbox = []


@pytest.fixture
def reader(make_user):
    """A user whose address is verified (allauth's EmailAddress): digests go only to such addresses."""
    from allauth.account.models import EmailAddress

    def _make(username):
        user = make_user(username, email=f"{username}@example.com")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user

    return _make


@pytest.fixture
def areader(reader):
    return sync_to_async(reader)


def later(seconds=AFTER + 1):
    return timezone.now() + timedelta(seconds=seconds)


def test_someone_away_gets_one_digest_grouped_by_kind_and_never_twice(make_user, reader):
    alice, bob = make_user("alice"), reader("bob")
    notifications.notify(bob, "sent you a message", actor=alice, kind="chat.direct", url="/chat/dm-1/")
    notifications.notify(bob, "mentioned you in Lounge", actor=alice, kind="chat.mention", url="/chat/lounge/")
    notifications.notify(bob, "mentioned you in <b>Ops</b>", actor=alice, kind="chat.mention")
    assert emails.emails_send_due(now=later(AFTER - 5)) == 0  # not due yet
    assert emails.emails_send_due(now=later()) == 1
    [message] = mail.outbox
    assert message.to == ["bob@example.com"] and message.subject == "3 notifications you missed"
    text = message.body
    assert text.index("Mentions of you in rooms") < text.index("Direct messages")  # the settings page's order
    assert "- mentioned you in Lounge (from alice)\n  https://hub.example.com/chat/lounge/" in text
    assert "https://hub.example.com/notifications/" in text  # no url of its own: the list
    [(html, kind)] = message.alternatives
    assert kind == "text/html" and "mentioned you in &lt;b&gt;Ops&lt;/b&gt;" in html and "<b>Ops" not in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert re.fullmatch(r"<https://hub\.example\.com/notifications/unsubscribe/[^/]+/>", unsubscribe)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 3
    assert emails.emails_send_due(now=later(AFTER * 10)) == 0  # never twice
    assert len(mail.outbox) == 1


async def test_someone_who_had_a_socket_since_is_not_emailed(areader, connect):
    bob = await areader("bob")
    seen = await sync_to_async(notifications.notify)(bob, "while you were here", kind="chat.direct")
    comm = await connect(bob)
    await comm.ok("hub", "heartbeat")
    await comm.disconnect()  # online after it was made, then gone: it was in the bell
    assert await sync_to_async(emails.emails_send_due)(now=later()) == 0
    assert mail.outbox == []
    assert await sync_to_async(Notification.objects.filter(pk=seen[0].pk, email_checked=True).exists)()


def test_read_ones_and_kinds_not_wanted_by_email_are_not_emailed(make_user, reader):
    bob = reader("bob")
    [read] = notifications.notify(bob, "read it already", kind="chat.direct")
    notifications.services.notification_mark_read(user=bob, ids=[read.pk])
    notifications.notify(bob, "an in-app kind by default")  # notifications.other
    preferences.preferences_set(user=bob, deliveries={"chat.mention": "in_app"})
    notifications.notify(bob, "mentioned you", kind="chat.mention")
    assert emails.emails_send_due(now=later()) == 0
    assert mail.outbox == []
    unverified = make_user("newcomer")  # an address anyone could have typed in at signup
    notifications.notify(unverified, "not to an unverified address", kind="chat.direct")
    assert emails.emails_send_due(now=later()) == 0 and mail.outbox == []


def test_one_email_per_window_and_what_falls_due_meanwhile_waits_for_the_next(make_user, reader):
    bob = reader("bob")
    notifications.notify(bob, "first", kind="chat.direct")
    now = later()
    assert emails.emails_send_due(now=now) == 1
    second = notifications.notify(bob, "second", kind="chat.direct")[0]
    Notification.objects.filter(pk=second.pk).update(created_at=now - timedelta(seconds=AFTER))  # due at once
    assert emails.emails_send_due(now=now + timedelta(seconds=5)) == 0  # within the window of the first email
    assert emails.emails_send_due(now=now + timedelta(seconds=AFTER + 1)) == 1
    assert [m.subject for m in mail.outbox] == ["1 notification you missed"] * 2
    assert "second" in mail.outbox[1].body and "first" not in mail.outbox[1].body


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server here")


def test_a_failed_send_is_tried_again_next_round(reader, settings):
    bob = reader("bob")
    notifications.notify(bob, "try me", kind="chat.direct")
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    assert emails.emails_send_due(now=later()) == 0
    assert Notification.objects.get().emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails.emails_send_due(now=later()) == 1
    assert "try me" in mail.outbox[0].body


def test_the_unsubscribe_link_asks_then_stops_every_email_kind(make_user, reader):
    bob = reader("bob")
    notifications.notify(bob, "hello", kind="chat.direct")
    emails.emails_send_due(now=later())
    link = mail.outbox[0].extra_headers["List-Unsubscribe"][1:-1].removeprefix("https://hub.example.com")
    client = Client(enforce_csrf_checks=True)  # no login, no CSRF token: the signed link is the proof
    page = client.get(link)
    assert page.status_code == 200 and "Stop emailing notifications to bob?" in page.content.decode()
    assert {k["kind"]: k["delivery"] for k in preferences.preferences_of(user=bob)["kinds"]}["chat.direct"] == "email"
    done = client.post(link, {"List-Unsubscribe": "One-Click"})  # what a mail client sends (RFC 8058)
    assert done.status_code == 200 and "gets no more notification emails" in done.content.decode()
    assert "email" not in {k["delivery"] for k in preferences.preferences_of(user=bob)["kinds"]}
    notifications.notify(bob, "after", kind="chat.direct")
    assert emails.emails_send_due(now=later(AFTER * 3)) == 0
    tampered = link.replace(link.split("/")[-2], link.split("/")[-2][:-2] + "xx")
    assert client.post(tampered).status_code == 400 and client.get("/notifications/unsubscribe/7/").status_code == 400


def test_the_command_and_the_periodic_round_send_and_email_after_0_turns_it_off(reader, settings):
    bob = reader("bob")
    [n] = notifications.notify(bob, "by cron", kind="chat.direct")
    Notification.objects.filter(pk=n.pk).update(created_at=timezone.now() - timedelta(seconds=AFTER + 1))
    settings.HUB_EMAIL_AFTER = 0
    out = []
    call_command("hub_send_emails", stdout=type("Out", (), {"write": lambda self, s: out.append(s)})())
    assert "notification emails are off" in out[-1] and mail.outbox == []
    settings.HUB_EMAIL_AFTER = AFTER
    call_command("hub_send_emails", stdout=type("Out", (), {"write": lambda self, s: out.append(s)})())
    assert out[-1].strip() == "Sent 1 digest email." and len(mail.outbox) == 1


async def test_one_server_process_a_round_runs_the_emailer(areader):
    bob = await areader("bob")
    [n] = await sync_to_async(notifications.notify)(bob, "from the server", kind="chat.direct")
    await sync_to_async(Notification.objects.filter(pk=n.pk).update)(
        created_at=timezone.now() - timedelta(seconds=AFTER + 1))
    assert await scheduler.emailer.run_once(token="first") == 1
    assert await scheduler.emailer.run_once(token="second") is None  # the lock is the first one's this round
    assert len(mail.outbox) == 1


def test_a_grouped_notification_that_grew_since_its_email_is_told_again(make_user, reader):
    bob = reader("bob")
    notifications.notify(bob, "liked your post", actor=make_user("al"), group_key="likes:1", kind="chat.mention")
    now = later()
    assert emails.emails_send_due(now=now) == 1
    [grown] = notifications.notify(bob, "liked your post", actor=make_user("bo"), group_key="likes:1",
                                   kind="chat.mention")
    Notification.objects.filter(pk=grown.pk).update(created_at=now)
    assert emails.emails_send_due(now=now + timedelta(seconds=AFTER + 1)) == 1
    assert "bo and al liked your post" in mail.outbox[1].body


def test_a_deactivated_persons_notifications_are_decided_without_email(reader):
    bob = reader("bob")
    notifications.notify(bob, "hello", kind="chat.direct")
    type(bob).objects.filter(pk=bob.pk).update(is_active=False)
    assert emails.emails_send_due(now=later()) == 0
    assert Notification.objects.get().email_checked and mail.outbox == []


def test_announcements_by_email_reach_those_who_chose_it_and_were_away_once(make_user, reader):
    """Only announcements published after the choice, of the person's audience, not dismissed or withdrawn,
    and only when they were away: one digest with their notifications, never the same announcement twice."""
    from django.contrib.auth.models import Group

    earlier = notifications.announce("Before the choice", "old news")
    bob, carol = reader("bob"), reader("carol")
    preferences.preferences_set(user=bob, deliveries={"notifications.announcement": "email"})
    ops = Group.objects.create(name="ops")
    notifications.announce("Maintenance tonight", "From 22:00 <b>UTC</b>")
    notifications.announce("For ops", "pager duty", audience=ops)  # bob is not in ops
    notifications.announce("Only here now", "x", audience="online")  # never listed, never emailed
    dismissed = notifications.announce("Dismissed", "seen it")
    notifications.services.announcement_dismiss(user=bob, announcement_id=dismissed.pk)
    notifications.notify(bob, "sent you a message", kind="chat.direct")
    assert emails.emails_send_due(now=later()) == 1  # carol kept the default (in the app): nothing
    [message] = mail.outbox
    assert message.to == ["bob@example.com"] and message.subject == "2 notifications you missed"
    assert "Announcements from staff\n- Maintenance tonight: From 22:00 <b>UTC</b>\n  https://hub.example.com/" \
        in message.body
    for absent in ("Before the choice", "For ops", "Only here now", "Dismissed"):
        assert absent not in message.body
    assert "From 22:00 &lt;b&gt;UTC&lt;/b&gt;" in message.alternatives[0][0]
    assert emails.emails_send_due(now=later(AFTER * 3)) == 0  # once
    assert earlier.published and carol.email


async def test_an_announcement_seen_live_is_not_emailed(areader, connect):
    bob = await areader("bob")
    await sync_to_async(preferences.preferences_set)(user=bob, deliveries={"notifications.announcement": "email"})
    await sync_to_async(notifications.announce)("While you were here", "b")
    comm = await connect(bob)  # a socket after it went out: the banner was on his page
    await comm.ok("hub", "heartbeat")
    await comm.disconnect()
    assert await sync_to_async(emails.emails_send_due)(now=later()) == 0
    assert mail.outbox == []

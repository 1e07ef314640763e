"""Announcements that reach the right people at the right time (issue 15 §5): audiences (all, staff, online, a
group) live and on join, scheduled publishing (once, by whichever process), idempotent keys, and the admin."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

import notifications
from hub.errors import BadRequest
from notifications import scheduler, services
from notifications.models import Announcement

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _scheduler_by_hand(monkeypatch):
    """This process's scheduler loop stays off: the tests publish due announcements themselves."""
    monkeypatch.setattr(scheduler.scheduler, "ensure", lambda: None)


@pytest.fixture
def people(make_user):
    """A member of staff, a member of the group "ops", and someone else."""
    ops = Group.objects.create(name="ops")
    staff, member, other = make_user("sam", is_staff=True), make_user("mia"), make_user("oz")
    member.groups.add(ops)
    return staff, member, other, ops


async def joined(connect, user):
    comm = await connect(user)
    await comm.ok("announcements", "join")
    return comm


async def test_each_audience_reaches_its_people_live_and_on_join(connect, people):
    staff, member, other, ops = people
    s, m, o = [await joined(connect, user) for user in (staff, member, other)]
    for title, audience in (("to all", "all"), ("to staff", "staff"), ("to ops", ops), ("to those here", "online")):
        await database_sync_to_async(notifications.announce)(title, "b", audience=audience)
    expected = {s: ["to all", "to staff", "to those here"], m: ["to all", "to ops", "to those here"],
                o: ["to all", "to those here"]}
    for comm, titles in expected.items():
        got = [(await comm.expect("announcements", "new"))["announcement"]["title"] for _ in titles]
        assert got == titles
        assert await comm.nothing(0.3, topic="announcements", event="new")
    # A later join lists what its user may see, never the "online" one.
    for user, titles in ((staff, ["to all", "to staff"]), (member, ["to all", "to ops"]), (other, ["to all"])):
        comm = await connect(user)
        items = (await comm.ok("announcements", "join"))["items"]
        assert [a["title"] for a in items] == titles, user.username
    updated = await database_sync_to_async(Announcement.objects.get)(title="to staff")
    await database_sync_to_async(services.announcement_update)(
        announcement=updated, title="to staff, edited", body="b", level="info", expires_at=None)
    assert (await s.expect("announcements", "updated"))["announcement"]["audience"] == "staff"
    assert await o.nothing(0.3, topic="announcements", event="updated")


async def test_a_scheduled_announcement_appears_at_its_time_once(connect, people):
    staff, member, other, ops = people
    comm = await joined(connect, other)
    soon = timezone.now() + timedelta(minutes=5)
    scheduled = await database_sync_to_async(notifications.announce)("Maintenance", "tonight", publish_at=soon)
    assert not scheduled.published
    assert await database_sync_to_async(services.announcements_publish_due)() == []  # not yet
    assert (await (await connect(other)).ok("announcements", "join"))["items"] == []
    assert await comm.nothing(0.3, topic="announcements", event="new")
    later = soon + timedelta(seconds=1)
    assert await database_sync_to_async(services.announcements_publish_due)(now=later) == [scheduled.pk]
    assert await database_sync_to_async(services.announcements_publish_due)(now=later) == []  # once
    assert (await comm.expect("announcements", "new"))["announcement"]["title"] == "Maintenance"
    assert [a["title"] for a in (await (await connect(other)).ok("announcements", "join"))["items"]] == ["Maintenance"]


async def test_the_scheduler_publishes_due_ones_in_one_process_a_round(people):
    made = await database_sync_to_async(notifications.announce)(
        "Now", "b", publish_at=timezone.now() + timedelta(minutes=1))
    await database_sync_to_async(Announcement.objects.filter(pk=made.pk).update)(
        publish_at=timezone.now() - timedelta(seconds=1))  # its time has come
    assert await scheduler.scheduler.run_once(token="process-a") == [made.pk]
    assert await scheduler.scheduler.run_once(token="process-b") is None  # the round was process a's
    assert await database_sync_to_async(Announcement.objects.filter(pk=made.pk, published=True).exists)()


def test_the_same_key_announces_once(make_user):
    first = notifications.announce("Deploy 42", "going out", key="deploy-42")
    again = notifications.announce("Deploy 42", "going out", key="deploy-42")
    assert again.pk == first.pk and Announcement.objects.count() == 1


@pytest.mark.parametrize("kwargs, says", [
    ({"audience": "everyone"}, "audience"), ({"key": ""}, "key"), ({"key": "k" * 101}, "key"),
    ({"publish_at": "tomorrow"}, "publish_at"),
    ({"publish_at": timezone.now() + timedelta(days=2), "expires_at": timezone.now() + timedelta(days=1)}, "before"),
])
def test_bad_audience_schedule_or_key_is_refused(kwargs, says):
    with pytest.raises(BadRequest, match=says):
        notifications.announce("t", "b", **kwargs)
    assert not Announcement.objects.exists()


def test_the_admin_offers_the_same_choices(make_user):
    root = make_user("root", is_staff=True, is_superuser=True)
    ops = Group.objects.create(name="ops")
    client = Client()
    client.force_login(root)
    form = {"title": "For ops", "body": "b", "level": "info", "expires_at_0": "", "expires_at_1": "",
            "publish_at_0": "", "publish_at_1": ""}
    response = client.post("/admin/notifications/announcement/add/", {**form, "audience": "group"})
    assert response.status_code == 200 and "Choose a group" in response.content.decode()
    response = client.post("/admin/notifications/announcement/add/", {**form, "audience": "group",
                                                                      "audience_group": ops.pk})
    assert response.status_code == 302
    made = Announcement.objects.get()
    assert (made.audience, made.audience_group, made.published) == ("group", ops, True)


async def test_a_withdrawn_announcement_comes_down_everywhere_and_stays_on_record(connect, people):
    staff, member, other, ops = people
    comm = await joined(connect, other)
    made = await database_sync_to_async(notifications.announce)("Oops", "wrong")
    await comm.expect("announcements", "new")
    assert await database_sync_to_async(services.announcement_withdraw)(announcement=made)
    assert await comm.expect("announcements", "withdrawn") == {"id": made.pk}
    assert not await database_sync_to_async(services.announcement_withdraw)(announcement=made)  # once
    assert (await (await connect(other)).ok("announcements", "join"))["items"] == []
    assert (await comm.error("announcements", "dismiss", {"id": made.pk}))["code"] == "not_found"
    assert await database_sync_to_async(Announcement.objects.filter(pk=made.pk).exists)()


def test_the_admin_withdraws(make_user):
    root = make_user("root", is_staff=True, is_superuser=True)
    made = notifications.announce("Oops", "wrong")
    client = Client()
    client.force_login(root)
    client.post("/admin/notifications/announcement/", {"action": "withdraw", "_selected_action": [made.pk]})
    made.refresh_from_db()
    assert made.withdrawn_at is not None

"""The notifications admin goes through the services: staff edits and deletions of announcements reach open pages."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

import notifications
from notifications.models import Announcement

pytestmark = pytest.mark.django_db(transaction=True)


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def change_form(title, body="Body", level="info", expires_at=None):
    fields = {"title": title, "body": body, "level": level, "expires_at_0": "", "expires_at_1": "",
              "audience": "all", "publish_at_0": "", "publish_at_1": ""}
    if expires_at is not None:
        fields.update(expires_at_0=expires_at.strftime("%Y-%m-%d"), expires_at_1=expires_at.strftime("%H:%M:%S"))
    return fields


@pytest.fixture
def staff(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


async def test_editing_an_announcement_pushes_updated(amake_user, connect, staff):
    viewer = await connect(await amake_user("viewer"))
    await viewer.ok("announcements", "join")
    announcement = await database_sync_to_async(notifications.announce)("Maintenance", "At ten")
    await viewer.expect("announcements", "new")

    def edit(**fields):
        return admin_client(staff).post(f"/admin/notifications/announcement/{announcement.pk}/change/",
                                        change_form(**fields))

    response = await database_sync_to_async(edit)(title="Maintenance moved", body="At eleven", level="warning")
    assert response.status_code == 302, response.content.decode()[:3000]
    push = await viewer.expect("announcements", "updated")
    assert push["announcement"]["id"] == announcement.pk
    assert (push["announcement"]["title"], push["announcement"]["level"]) == ("Maintenance moved", "warning")
    # On an existing announcement a past expiry is how staff take it down now.
    past = timezone.now() - timedelta(hours=1)
    assert (await database_sync_to_async(edit)(title="Over", expires_at=past)).status_code == 302
    push = await viewer.expect("announcements", "updated")
    assert push["announcement"]["expires_at"] is not None
    assert (await viewer.ok("announcements", "join"))["items"] == []


@pytest.mark.parametrize("how", ["delete view", "bulk action"])
async def test_deleting_an_announcement_pushes_deleted(amake_user, connect, staff, how):
    viewer = await connect(await amake_user("viewer"))
    await viewer.ok("announcements", "join")
    announcement = await database_sync_to_async(notifications.announce)("Oops", "Sent by mistake")

    def delete():
        client = admin_client(staff)
        if how == "delete view":
            return client.post(f"/admin/notifications/announcement/{announcement.pk}/delete/", {"post": "yes"})
        return client.post("/admin/notifications/announcement/", {
            "action": "delete_selected", "_selected_action": [announcement.pk], "post": "yes"})

    assert (await database_sync_to_async(delete)()).status_code == 302
    assert await viewer.expect("announcements", "deleted") == {"id": announcement.pk}
    assert not await database_sync_to_async(Announcement.objects.exists)()


def test_announcement_fields_are_checked_by_the_service_in_the_admin(staff):
    response = admin_client(staff).post("/admin/notifications/announcement/add/", change_form("   ", body="b"))
    assert response.status_code == 200 and not Announcement.objects.exists()


def test_notifications_are_a_record_in_the_admin_not_editable(staff, make_user):
    alice = make_user("alice")
    [note] = notifications.notify(alice, "Build passed")
    client = admin_client(staff)
    assert client.get(f"/admin/notifications/notification/{note.pk}/change/").status_code == 200  # viewable
    client.post(f"/admin/notifications/notification/{note.pk}/change/", {"verb": "changed", "unread": ""})
    note.refresh_from_db()
    assert note.verb == "Build passed" and note.unread is True
    assert client.get("/admin/notifications/notification/add/").status_code == 403

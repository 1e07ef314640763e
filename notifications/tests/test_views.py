"""The /notifications/ page and the admin: adding an announcement publishes it live; the test action."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

import notifications
from notifications.models import Announcement, Notification

pytestmark = pytest.mark.django_db(transaction=True)


def test_list_page_paginates_and_shows_read_state(client, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    for i in range(30):
        notifications.notify(alice, f"note {i}")
    notifications.notify(bob, "not for alice")
    Notification.objects.filter(verb="note 29").update(unread=False)
    client.force_login(alice)
    page = client.get("/notifications/").content.decode()
    assert "note 29" in page and "note 5" in page and "note 4" not in page and "not for alice" not in page
    assert "Page 1 of 2" in page and "Read" in page
    assert "note 4" in client.get("/notifications/?page=2").content.decode()


def test_list_page_requires_login(client):
    assert client.get("/notifications/").status_code == 302


def test_list_page_escapes_user_text(client, make_user):
    alice = make_user("alice")
    notifications.notify(alice, "<script>alert(1)</script>")
    client.force_login(alice)
    page = client.get("/notifications/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


async def test_adding_an_announcement_in_the_admin_publishes_it_live(amake_user, connect):
    admin = await amake_user("root", is_staff=True, is_superuser=True)
    viewer = await connect(await amake_user("viewer"))
    await viewer.ok("announcements", "join")

    def add_in_admin():
        client = Client()
        client.force_login(admin)
        return client.post("/admin/notifications/announcement/add/", {
            "title": "From the admin", "body": "Hello everyone", "level": "info", "expires_at_0": "", "expires_at_1": "",
            "audience": "all"})

    response = await database_sync_to_async(add_in_admin)()
    assert response.status_code == 302, response.content.decode()[:2000]
    push = await viewer.expect("announcements", "new")
    assert push["announcement"]["title"] == "From the admin"
    assert push["announcement"]["author"]["username"] == "root"


def test_admin_action_sends_a_test_notification(make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    alice = make_user("alice")
    client = Client()
    client.force_login(admin)
    response = client.post("/admin/auth/user/", {"action": "send_test_notification", "_selected_action": [alice.pk]})
    assert response.status_code == 302
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["alice"]


def test_admin_refuses_an_announcement_that_already_expired(make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.post("/admin/notifications/announcement/add/", {
        "title": "Too late", "body": "b", "level": "info", "expires_at_0": "2000-01-01", "expires_at_1": "10:00:00",
        "audience": "all"})
    assert response.status_code == 200 and "in the past" in response.content.decode()
    assert not Announcement.objects.exists()


def test_admin_lists_filters_and_searches_notifications(make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    alice = make_user("alice")
    notifications.notify(alice, "Build passed", level="success")
    notifications.notify(alice, "Disk almost full", level="warning")
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/notifications/notification/", {"level__exact": "warning"}).content.decode()
    assert "Disk almost full" in page and "Build passed" not in page
    page = client.get("/admin/notifications/notification/", {"q": "build"}).content.decode()
    assert "Build passed" in page and "Disk almost full" not in page


async def test_mark_all_read_on_the_page_updates_open_tabs(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await notifications.anotify([alice, bob], "one")
    tab = await connect(alice)
    await tab.ok("notifications", "join")

    def post():
        client = Client()
        client.force_login(alice)
        assert client.get("/notifications/read-all/").status_code == 405  # a GET never changes state
        response = client.post("/notifications/read-all/")
        return response, client.get("/notifications/").content.decode()

    response, page = await database_sync_to_async(post)()
    assert response.status_code == 302 and "0 unread" in page
    assert await tab.expect("notifications", "unread") == {"unread": 0, "read_ids": "all"}
    counts = await database_sync_to_async(lambda: dict(Notification.objects.values_list("recipient__username",
                                                                                         "unread")))()
    assert counts == {"alice": False, "bob": True}

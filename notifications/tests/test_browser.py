"""In Chromium: `manage.py notify` shows a toast and bumps the bell; announcements appear live as banners."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

import notifications
from tests.browser import login, signup
from hub.testing.servers import ROOT, database_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def manage(*args):
    """Run a management command as a separate process against the live server's database and Redis."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings_test", "DATABASE_URL": database_url(),
           "REDIS_URL": settings.REDIS_URL}
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_notify_command_toasts_and_bumps_the_bell(new_page, live_server_url):
    page = signup(new_page(), live_server_url, "nina")
    bell = page.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "Notifications, 0 unread")
    page.wait_for_function("() => window.hub?.subscriptions.get('notifications')?.joined")
    manage("notify", "nina", "--verb", "Your report is ready")
    expect(page.locator("#toasts .toast")).to_have_text("Your report is ready")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    bell.click()
    item = page.locator("#bell-list li.unread button", has_text="Your report is ready")
    expect(item).to_be_visible()
    item.click()
    expect(bell).to_have_attribute("aria-label", "Notifications, 0 unread")
    # Straight from Python in this process (it shares the database and Redis): two more, then "Mark all read".
    user = get_user_model().objects.get(username="nina")
    notifications.notify(user, "First of two")
    notifications.notify(user, "Second of two", level="warning")
    expect(bell).to_have_attribute("aria-label", "Notifications, 2 unread")
    expect(page.locator("#bell-count")).to_have_text("2")
    page.get_by_role("button", name="Mark all read").click()
    expect(bell).to_have_attribute("aria-label", "Notifications, 0 unread")
    expect(page.locator("#bell-list li.unread")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("#bell-panel")).to_be_hidden()
    # Offline: what was sent meanwhile shows up after the reconnect (a join with `since`).
    page.evaluate("() => { window.hub.stopped = true; window.hub.socket.close(); }")
    page.wait_for_function("() => window.hub.socket === null")  # closed, and no reconnect scheduled
    notifications.notify(user, "Sent while you were away")
    page.evaluate("() => { window.hub.stopped = false; window.hub.connect(); }")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    bell.click()
    # Screen readers hear the state ("Unread: ..."), which is otherwise only a style.
    expect(page.locator("#bell-list li.unread")).to_have_text(["Unread: Sent while you were away"])
    expect(page.get_by_role("button", name="Unread: Sent while you were away")).to_be_visible()
    expect(page.locator("#bell-list li")).to_have_count(4)  # no duplicates of what it already had


def test_announcement_banner_on_two_users_and_dismiss_syncs_tabs(new_page, live_server_url):
    ann = signup(new_page(), live_server_url, "anna")
    ann_tab2 = ann.context.new_page()
    ann_tab2.goto(f"{live_server_url}/")
    bo = signup(new_page(), live_server_url, "bo")
    for page in (ann, ann_tab2, bo):
        page.wait_for_function("() => window.hub?.subscriptions.get('announcements')?.joined")
    manage("announce", "--title", "Heads up", "--body", "<b>Deploy</b> at noon", "--level", "warning")
    for page in (ann, ann_tab2, bo):
        banner = page.locator("#announcements .announcement")
        expect(banner).to_contain_text("Heads up")
        expect(banner).to_contain_text("<b>Deploy</b> at noon")  # shown as text, not HTML
        expect(banner).to_have_attribute("data-level", "warning")
    ann.get_by_role("button", name="Dismiss announcement: Heads up").click()
    expect(ann_tab2.locator("#announcements .announcement")).to_have_count(0)
    expect(bo.locator("#announcements .announcement")).to_have_count(1)


def test_list_page_shows_new_notifications_and_read_state_live(new_page, live_server_url):
    page = signup(new_page(), live_server_url, "lena")
    user = get_user_model().objects.get(username="lena")
    notifications.notify(user, "Before the page opened")
    page.goto(f"{live_server_url}/notifications/")
    page.wait_for_function("() => window.hub?.subscriptions.get('notifications')?.joined")
    expect(page.locator("#notification-page-unread")).to_have_text("1 unread")
    notifications.notify(user, "<b>Arrived</b> while looking", url="/chat/general/")
    first = page.locator("#notification-page-list li").first
    expect(first).to_contain_text("<b>Arrived</b> while looking")  # as text, not markup
    expect(first.locator("a")).to_have_attribute("href", "/chat/general/")
    expect(page.locator("#notification-page-unread")).to_have_text("2 unread")
    # Marked read in another tab (its bell): this page follows.
    other = page.context.new_page()
    other.goto(f"{live_server_url}/")
    other.wait_for_function("() => window.hub?.subscriptions.get('notifications')?.joined")
    other.locator("#bell").click()
    other.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#notification-page-unread")).to_have_text("0 unread")
    expect(page.locator("#notification-page-list li.unread")).to_have_count(0)
    expect(page.locator("#notification-page-list .state")).to_have_text(["Read", "Read"])
    expect(page.locator("#notification-page-read-all")).to_be_hidden()


def test_grouped_notifications_show_as_one_item_naming_the_latest_actors(new_page, live_server_url, make_user):
    page = signup(new_page(), live_server_url, "gina")
    gina = get_user_model().objects.get(username="gina")
    page.wait_for_function("() => window.hub?.subscriptions.get('notifications')?.joined")
    for name in ("al", "bo", "cy", "di"):
        notifications.notify(gina, "commented on <b>Plans</b>", actor=make_user(name), group_key="post:1")
    expect(page.locator("#toasts .toast").last).to_have_text("di, cy and 2 others commented on <b>Plans</b>")
    bell = page.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")  # one item, not four
    bell.click()
    expect(page.locator("#bell-list li")).to_have_count(1)
    expect(page.locator("#bell-list li button")).to_have_text("Unread: di, cy and 2 others commented on <b>Plans</b>")
    page.goto(f"{live_server_url}/notifications/")
    expect(page.locator("#notification-page-list li")).to_have_count(1)
    page.wait_for_function("() => window.hub?.subscriptions.get('notifications')?.joined")
    notifications.notify(gina, "commented on <b>Plans</b>", actor=get_user_model().objects.get(username="al"),
                         group_key="post:1")
    expect(page.locator("#notification-page-list li")).to_have_count(1)
    expect(page.locator("#notification-page-list li")).to_contain_text("al, di and 2 others commented on <b>Plans</b>")  # al again: still 4 people


def test_a_staff_announcement_reaches_staff_only_and_a_scheduled_one_appears_at_its_time(new_page, live_server_url):
    from datetime import timedelta

    from django.utils import timezone

    boss = signup(new_page(), live_server_url, "boss")
    get_user_model().objects.filter(username="boss").update(is_staff=True)
    worker = signup(new_page(), live_server_url, "worker")
    for page in (boss, worker):
        page.reload()  # boss's socket reads is_staff again on its next connect
        page.wait_for_function("() => window.hub?.subscriptions.get('announcements')?.joined")
    notifications.announce("Staff meeting", "at three", audience="staff")
    expect(boss.locator("#announcements .announcement")).to_contain_text("Staff meeting")
    # One for everyone, in two seconds: the worker sees it then, and never the staff one.
    notifications.announce("Lunch", "is served", publish_at=timezone.now() + timedelta(seconds=2))
    expect(worker.locator("#announcements .announcement")).to_have_count(0)
    expect(worker.locator("#announcements .announcement")).to_contain_text("Lunch", timeout=10_000)
    expect(boss.locator("#announcements .announcement", has_text="Lunch")).to_have_count(1)
    worker.reload()
    expect(worker.locator("#announcements .announcement")).to_have_count(1)  # Lunch only, on join too


def test_settings_page_saves_follows_other_tabs_and_quiets_toasts(new_page, live_server_url):
    """/settings/notifications/ from the header: a save in one tab shows in the other tab's form at once;
    do-not-disturb keeps notifications counted but pops no toast; appear offline takes the person out of
    everyone's online list until they turn it off."""
    first = signup(new_page(), live_server_url, "pia")
    watcher = signup(new_page(), live_server_url, "quinn")
    expect(watcher.locator('#presence-list li[data-username="pia"]')).to_be_visible()
    second = login(new_page(), live_server_url, "pia")
    second.goto(f"{live_server_url}/settings/notifications/")
    second.wait_for_function("() => window.hub?.subscriptions.get('notifications')?.joined")
    first.get_by_role("link", name="Notification settings").first.click()
    first.wait_for_url(f"{live_server_url}/settings/notifications/")
    expect(first.get_by_role("radio", name="In the app and by email").first).to_be_visible()
    direct = first.locator('tr[data-kind="chat.direct"]')
    expect(direct.get_by_role("radio", name="In the app and by email")).to_be_checked()  # the kind's default
    direct.get_by_role("radio", name="Off").check()
    first.get_by_label("Do not disturb").check()
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".flash")).to_have_text("Your notification settings are saved.")
    # The other tab's form follows, without a reload.
    expect(second.get_by_label("Do not disturb")).to_be_checked()
    expect(second.locator('tr[data-kind="chat.direct"]').get_by_role("radio", name="Off")).to_be_checked()
    expect(second.locator("#notification-settings-synced")).to_have_text("Updated: saved in another tab.")
    # Do not disturb: counted on the bell, no toast.
    pia = get_user_model().objects.get(username="pia")
    notifications.notify(pia, "A quiet one")
    expect(second.locator("#bell")).to_have_attribute("aria-label", "Notifications, 1 unread")
    expect(second.locator("#bell")).to_have_attribute("data-dnd", "on")
    expect(second.locator("#toasts .toast")).to_have_count(0)
    # Appear offline, then back.
    second.get_by_label("Appear offline").check()
    second.get_by_role("button", name="Save").click()
    expect(second.locator(".flash")).to_have_text("Your notification settings are saved.")
    expect(watcher.locator('#presence-list li[data-username="pia"]')).to_have_count(0, timeout=5_000)
    expect(first.get_by_label("Appear offline")).to_be_checked()
    first.get_by_label("Appear offline").uncheck()
    first.get_by_label("Do not disturb").uncheck()
    first.get_by_role("button", name="Save").click()
    expect(watcher.locator('#presence-list li[data-username="pia"]')).to_be_visible(timeout=5_000)
    notifications.notify(pia, "A loud one")
    expect(second.locator("#toasts .toast")).to_have_text("A loud one")

"""Two people chat in Chromium: presence, live messages, HTML shown as text, typing, and a server restart."""

import pytest
from playwright.sync_api import expect

from chat.models import Message, Room
from tests.browser import signup
from hub.testing.servers import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
XSS = '<img src=x onerror="window.pwned=1">'


def open_room(page, base_url, slug="general"):
    page.goto(f"{base_url}/chat/{slug}/")
    expect(page.locator("#hub-status")).to_have_text("Connected")
    page.wait_for_function(f"() => window.hub?.subscriptions.get('room:{slug}')?.joined")
    return page


def test_two_people_chat_through_a_server_restart(new_page):
    Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    server = DaphneServer().start()
    try:
        ann = open_room(signup(new_page(), server.url, "ann"), server.url)
        ben = open_room(signup(new_page(), server.url, "ben"), server.url)
        # Both are online and present in the room.
        expect(ann.locator('#here-list li[data-username="ben"]')).to_be_visible()
        expect(ben.locator('#here-list li[data-username="ann"]')).to_be_visible()
        expect(ann.locator('#presence-list li[data-username="ben"]')).to_be_visible()
        # Typing shows on the other side.
        composer = ann.get_by_role("textbox", name="Message")
        composer.press_sequentially("hello ben")
        expect(ben.locator("#typing")).to_have_text("ann is typing…")
        composer.press("Enter")
        expect(ben.locator("#messages li .body", has_text="hello ben")).to_have_count(1)
        # A message with HTML arrives as literal text, and nothing runs.
        ben.get_by_role("textbox", name="Message").fill(XSS)
        ben.get_by_role("textbox", name="Message").press("Enter")
        expect(ann.locator("#messages li .body", has_text=XSS)).to_have_count(1)
        assert ann.locator("#messages img").count() == 0
        assert ann.evaluate("() => window.pwned") is None
        # Shift+Enter is a newline, not a send.
        composer.fill("line one")
        composer.press("Shift+Enter")
        composer.press_sequentially("line two")
        composer.press("Enter")
        expect(ben.locator("#messages li .body", has_text="line one\nline two")).to_have_count(1)
        # The server restarts; a message written meanwhile is pending, then delivered once.
        server.stop()
        expect(ann.locator("#hub-status")).to_have_text("Reconnecting…")
        composer.fill("written while offline")
        composer.press("Enter")
        expect(ann.locator("#messages li.pending", has_text="written while offline")).to_have_count(1)
        restarted = DaphneServer()
        restarted.port = server.port
        server = restarted.start()
        for page in (ann, ben):
            expect(page.locator("#hub-status")).to_have_text("Connected", timeout=40_000)
        for page in (ann, ben):
            expect(page.locator("#messages li[data-id] .body", has_text="written while offline")).to_have_count(1)
            expect(page.locator("#messages li[data-id] .body", has_text="hello ben")).to_have_count(1)
        expect(ann.locator("#messages li.pending")).to_have_count(0)
        assert Message.objects.filter(body="written while offline").count() == 1
    finally:
        server.stop()


def test_a_burst_of_sends_arrives_once_each_in_order_within_the_rate_limit(new_page, live_server_url):
    """Enter pressed faster than HUB_CHAT_RATE allows: one send at a time, the limit waited out."""
    Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    page = open_room(signup(new_page(), live_server_url, "ann"), live_server_url)
    composer = page.get_by_role("textbox", name="Message")
    bodies = [f"burst {i:02d}" for i in range(25)]  # 20 per 10 s by default: the last 5 wait
    for body in bodies:
        composer.fill(body)
        composer.press("Enter")
    expect(page.locator("#messages li[data-id]")).to_have_count(25, timeout=30_000)
    expect(page.locator("#messages li.pending")).to_have_count(0)
    expect(page.locator("#hub-status")).to_have_text("Connected")  # never closed for flooding
    assert page.locator("#messages li[data-id] .body").all_text_contents() == bodies
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == bodies


def test_the_room_fits_a_phone_screen(new_page, live_server_url):
    Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    open_room(signup(page, live_server_url, "a" * 60), live_server_url)
    assert page.locator("#messages").bounding_box()["width"] > 300
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_after_a_disconnect_the_page_shows_what_changed_meanwhile(new_page, live_server_url):
    """Edits, deletes and reads done while a tab was offline show once it is back."""
    from django.contrib.auth import get_user_model

    import notifications
    from chat import services
    from notifications.services import notification_mark_all_read

    general, _ = Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    ann = open_room(signup(new_page(), live_server_url, "ann"), live_server_url)
    ben = get_user_model().objects.create_user("ben", password="x-Long-pass-1")
    kept, _ = services.message_send(room=general, author=ben, body="first draft")
    gone, _ = services.message_send(room=general, author=ben, body="to be deleted")
    ann_user = get_user_model().objects.get(username="ann")
    notifications.notify(ann_user, "build finished")
    expect(ann.locator("#messages li[data-id] .body", has_text="to be deleted")).to_have_count(1)
    expect(ann.locator("#bell")).to_have_attribute("aria-label", "Notifications, 1 unread")
    ann.evaluate("() => { window.hub.stopped = true; window.hub.socket.close(); }")
    expect(ann.locator("#hub-status")).not_to_have_text("Connected")
    services.message_edit(room=general, user=ben, message_id=kept.pk, body="final text")
    services.message_delete(room=general, user=ben, message_id=gone.pk)
    notification_mark_all_read(user=ann_user)
    ann.evaluate("() => { window.hub.stopped = false; window.hub.connect(); }")
    expect(ann.locator("#hub-status")).to_have_text("Connected")
    expect(ann.locator(f'#messages li[data-id="{kept.pk}"] .body')).to_have_text("final text")
    expect(ann.locator(f'#messages li[data-id="{gone.pk}"] .body')).to_have_text("message deleted")
    expect(ann.locator("#bell")).to_have_attribute("aria-label", "Notifications, 0 unread")
    expect(ann.locator("#bell-list li.unread")).to_have_count(0)
    expect(ann.locator("#bell-list li.read")).to_have_count(1)


def test_a_refused_send_can_be_retried_or_discarded(new_page, live_server_url):
    Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    page = open_room(signup(new_page(), live_server_url, "ann"), live_server_url)
    composer = page.get_by_role("textbox", name="Message")
    page.evaluate("() => document.getElementById('composer-input').removeAttribute('maxlength')")
    composer.fill("x" * 4001)
    composer.press("Enter")
    failed = page.locator("#messages li.failed")
    expect(failed).to_contain_text("not sent")
    expect(page.locator("#composer-error")).to_contain_text("at most 4000")
    failed.get_by_role("button", name="Discard").click()
    expect(page.locator("#messages li.pending")).to_have_count(0)
    assert composer.input_value() == "x" * 4001  # the text is back in the composer, nothing lost


def test_the_online_sidebar_and_here_now_follow_the_same_presence_diffs(new_page, live_server_url):
    """Someone online shows in the sidebar; opening the room adds them to "Here now"; closing the tab removes both."""
    Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    ann = open_room(signup(new_page(), live_server_url, "ann"), live_server_url)
    online = ann.locator('#presence-list li[data-username="ben"]')
    here = ann.locator('#here-list li[data-username="ben"]')
    ben = signup(new_page(), live_server_url, "ben")  # on the home page: online, not in the room
    expect(online).to_have_attribute("aria-label", "ben (online)")
    expect(here).to_have_count(0)
    open_room(ben, live_server_url)
    expect(here).to_have_text("ben")
    expect(online).to_have_count(1)
    ben.close()
    expect(here).to_have_count(0, timeout=5_000)
    expect(online).to_have_count(0, timeout=5_000)
    expect(ann.locator("#here-list li")).to_have_text(["ann"])
    expect(ann.locator("#presence-count")).to_have_text("1")


def test_a_member_removed_sees_it_and_one_who_leaves_is_back_in_the_lobby(new_page, live_server_url):
    """The room page says so when its user is removed; "Leave room" leaves, and the lobby drops the room."""
    from chat import services
    from chat.models import Membership

    ann = signup(new_page(), live_server_url, "ann")
    ben = signup(new_page(), live_server_url, "ben")
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.filter(username__in=["ann", "ben"])}
    room = services.room_create(creator=users["ann"], name="Plans", private=True, member_usernames=["ben"])
    expect(ben.locator(f'#room-list li[data-slug="{room.slug}"]')).to_be_visible()  # the lobby hears of it
    open_room(ben, live_server_url, room.slug)
    Membership.objects.filter(room=room, user=users["ben"]).delete()  # as in the admin
    expect(ben.locator("#room-notice")).to_have_text("You are no longer a member of this room.")
    expect(ben.get_by_role("textbox", name="Message")).to_be_disabled()
    open_room(ann, live_server_url, room.slug)
    ann.once("dialog", lambda dialog: dialog.accept())
    ann.get_by_role("button", name="Leave room").click()
    ann.wait_for_url(f"{live_server_url}/")
    expect(ann.locator("#hub-status")).to_have_text("Connected")
    ann.wait_for_function("() => window.hub?.subscriptions.get('chat')?.joined")
    expect(ann.locator(f'#room-list li[data-slug="{room.slug}"]')).to_have_count(0)
    assert not Membership.objects.filter(room=room).exists()


def test_a_muted_room_stays_quiet_and_shows_muted_in_the_lobby(new_page, live_server_url):
    Room.objects.get_or_create(slug="general", defaults={"name": "General", "kind": "public"})
    ann = open_room(signup(new_page(), live_server_url, "ann"), live_server_url)
    ben = open_room(signup(new_page(), live_server_url, "ben"), live_server_url)
    ben.select_option("#room-mute", "forever")
    expect(ben.locator("#room-mute")).to_have_value("forever")
    ben.goto(f"{live_server_url}/")  # the lobby
    general = ben.locator('#room-list li[data-slug="general"]')
    expect(general).to_have_attribute("data-muted", "true")
    expect(general).to_contain_text("muted")
    composer = ann.get_by_role("textbox", name="Message")
    composer.fill("@ben lunch?")
    composer.press("Enter")
    expect(ann.locator("#messages li[data-id] .body", has_text="@ben lunch?")).to_have_count(1)
    # Nothing may come, so there is no event to wait for: a second in which a bump or a toast would show.
    ben.wait_for_timeout(1000)
    expect(ben.locator("#bell")).to_have_attribute("aria-label", "Notifications, 0 unread")
    expect(general.locator(".badge")).to_be_hidden()
    # Unmuted in the room: the next mention notifies.
    open_room(ben, live_server_url).select_option("#room-mute", "on")
    expect(ben.locator("#room-mute")).to_have_value("on")
    ben.goto(f"{live_server_url}/")
    expect(ben.locator('#room-list li[data-slug="general"]')).to_have_attribute("data-muted", "false")
    composer.fill("@ben now?")
    composer.press("Enter")
    expect(ben.locator("#bell")).to_have_attribute("aria-label", "Notifications, 1 unread")

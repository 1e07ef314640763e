"""In Chromium: "Seen by" follows the other member's reading live, and the composer completes @names."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from chat import services
from chat.tests.test_browser import XSS, open_room
from tests.browser import signup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def users(*names):
    found = {user.username: user for user in get_user_model().objects.filter(username__in=names)}
    return [found[name] for name in names]


def seen_under(page, body):
    """The "Seen by" line of the message with this body."""
    return page.locator("#messages li[data-id]", has=page.locator(".body", has_text=body)).locator(".seen-by")


def test_seen_by_follows_the_other_members_reading_live(new_page, live_server_url):
    ann = signup(new_page(), live_server_url, "ann")
    ben = signup(new_page(), live_server_url, "ben")
    ann_user, ben_user = users("ann", "ben")
    ben_user.first_name = XSS  # a display name is shown as text, never as markup
    ben_user.save(update_fields=["first_name"])
    room = services.room_create(creator=ann_user, name="Plans", private=True, member_usernames=["ben"])
    open_room(ann, live_server_url, room.slug)
    composer = ann.get_by_role("textbox", name="Message")
    composer.fill("first")
    composer.press("Enter")
    expect(ann.locator("#messages li[data-id] .body", has_text="first")).to_have_count(1)
    expect(ann.locator("#messages .seen-by")).to_have_count(0)  # ben has not read anything yet
    open_room(ben, live_server_url, room.slug)  # ben opens the room and so reads "first"
    expect(seen_under(ann, "first")).to_have_text(f"Seen by {XSS}")
    composer.fill("second")
    composer.press("Enter")
    # ben's open page reads the new message at once: the receipt moves under it.
    expect(seen_under(ann, "second")).to_have_text(f"Seen by {XSS}")
    expect(ann.locator("#messages .seen-by")).to_have_count(1)
    # ben sees ann's marker (she read her own message), never his own.
    expect(seen_under(ben, "second")).to_have_text("Seen by ann")
    expect(ben.locator("#messages .seen-by")).to_have_count(1)
    assert ann.locator("#messages img").count() == 0
    assert ann.evaluate("() => window.pwned") is None


def test_the_composer_completes_member_names(new_page, live_server_url):
    ann = signup(new_page(), live_server_url, "ann")
    for name in ("albert", "alma", "bob", "alfred"):
        get_user_model().objects.create_user(name, password="x-Long-pass-1")
    room = services.room_create(creator=users("ann")[0], name="Plans", private=True,
                                member_usernames=["albert", "alma", "bob"])  # alfred is no member
    open_room(ann, live_server_url, room.slug)
    composer = ann.get_by_role("textbox", name="Message")
    options = ann.locator("#mention-list li")
    composer.press_sequentially("hi @al")
    expect(options).to_have_text(["@albert", "@alma"])
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    composer.press("Enter")  # picks, does not send
    expect(composer).to_have_value("hi @alma ")
    expect(ann.locator("#mention-list")).to_be_hidden()
    composer.press_sequentially("and @B")
    expect(options).to_have_text(["@bob"])
    composer.press("Tab")
    expect(composer).to_have_value("hi @alma and @bob ")
    expect(composer).to_be_focused()
    composer.press_sequentially("@al")
    expect(options).to_have_count(2)
    composer.press("Escape")
    expect(ann.locator("#mention-list")).to_be_hidden()
    expect(composer).to_have_value("hi @alma and @bob @al")
    composer.press("Backspace")  # typing again offers the names again; a click picks one
    expect(options).to_have_count(2)
    options.filter(has_text="@albert").click()
    expect(composer).to_have_value("hi @alma and @bob @albert ")
    expect(ann.locator("#messages li")).to_have_count(0)  # nothing was sent by picking
    composer.press("Enter")
    expect(ann.locator("#messages li[data-id] .body")).to_have_text(["hi @alma and @bob @albert"])

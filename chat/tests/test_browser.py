"""Two people chat in Chromium: presence, live messages, HTML shown as text, typing, and a server restart."""

import pytest
from playwright.sync_api import expect

from chat.models import Message, Room
from tests.browser import signup
from tests.servers import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
XSS = '<img src=x onerror="window.pwned=1">'


def open_room(page, base_url, slug="general"):
    page.goto(f"{base_url}/chat/{slug}/")
    expect(page.locator("#hub-status")).to_have_text("Connected")
    page.wait_for_function(f"() => window.hub.subscriptions.get('room:{slug}')?.joined")
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

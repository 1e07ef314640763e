"""socket.js in Chromium: reconnects by itself after a server restart; a logout elsewhere sends the tab to login."""

import pytest
from playwright.sync_api import expect

from tests.browser import signup
from tests.servers import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reconnects_after_restart_and_leaves_on_logout(new_page):
    server = DaphneServer().start()
    try:
        page = signup(new_page(), server.url, "rita")
        server.stop()
        expect(page.locator("#hub-status")).to_have_text("Reconnecting…")
        restarted = DaphneServer()
        restarted.port = server.port
        server = restarted.start()
        expect(page.locator("#hub-status")).to_have_text("Connected", timeout=40_000)
        # Same session, second tab: logging out there closes the first tab's socket with 4401.
        other = page.context.new_page()
        other.goto(f"{server.url}/")
        other.click("text=Log out")
        page.wait_for_url(lambda url: "/accounts/login/" in url, timeout=10_000)
    finally:
        server.stop()

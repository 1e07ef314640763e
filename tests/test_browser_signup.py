"""A newcomer signs up in a real Chromium and sees the live socket connect."""

import pytest
from playwright.sync_api import expect

from tests.browser import signup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signup_lands_on_home_and_shows_connected(new_page, live_server_url):
    page = new_page()
    signup(page, live_server_url, "newcomer")
    expect(page.locator("h1")).to_contain_text("newcomer")
    expect(page.locator("#hub-status")).to_have_text("Connected")
    # Logging out (a POST form) ends the session and lands on a public page.
    page.click("text=Log out")
    page.wait_for_url(lambda url: "/accounts/" in url or url.rstrip("/").endswith(live_server_url.split("//")[1]))

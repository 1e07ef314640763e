"""Two people in Chromium see each other in the Online sidebar, and see each other go."""

import pytest
from playwright.sync_api import expect

from tests.browser import signup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_users_see_each_other_online_then_leave(new_page, live_server_url):
    ann = signup(new_page(), live_server_url, "ann")
    ben = signup(new_page(), live_server_url, "ben")
    expect(ann.locator('#presence-list li[data-username="ben"]')).to_have_attribute("aria-label", "ben (online)")
    expect(ben.locator('#presence-list li[data-username="ann"]')).to_be_visible()
    expect(ann.locator("#presence-count")).to_have_text("2")
    expect(ann.get_by_role("complementary", name="Online", exact=True)).to_be_visible()
    expect(ann.get_by_role("list", name="Online", exact=True).get_by_role("listitem")).to_have_count(2)
    # Ben's tab goes to the background: socket.js reports away, Ann's sidebar says so.
    ben.evaluate("""() => {
        Object.defineProperty(document, "visibilityState", {get: () => "hidden", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    expect(ann.locator('#presence-list li[data-username="ben"]')).to_have_attribute("aria-label", "ben (away)")
    ben.close()
    expect(ann.locator('#presence-list li[data-username="ben"]')).to_have_count(0, timeout=5_000)
    expect(ann.locator("#presence-count")).to_have_text("1")

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


def _ghosts(set_names, n):
    """Users present in Redis only (no browser behind them), to make the sets large cheaply.

    Sync (Playwright's loop owns this thread), so through the store's sync runner.
    """
    import json

    from presence import store

    for i in range(n):
        user = {"id": 90_000 + i, "username": f"ghost{i}", "display_name": f"Ghost {i}"}
        for set_name in set_names:
            store._run_sync(store._TRACK, set_name, f"ghost-conn-{i}", user["id"], "online", 600,
                            json.dumps(user), "", "diff" if set_name == "presence" else "presence")


def test_a_large_site_shows_the_count_and_the_people_on_the_page(new_page, make_user):
    from chat.models import Room
    from hub.testing.servers import DaphneServer
    from tests.browser import BROWSER_PASSWORD, login

    Room.objects.create(slug="lobby", name="Lobby", kind="public")
    make_user("ann", password=BROWSER_PASSWORD)
    make_user("ben", password=BROWSER_PASSWORD)
    _ghosts(["presence", "room:lobby"], 3)
    with DaphneServer(HUB_PRESENCE_LIST_MAX=2) as server:
        ben = login(new_page(), server.url, "ben")
        ben.goto(f"{server.url}/chat/lobby/")
        ben.wait_for_function("() => window.hub?.subscriptions.get('room:lobby')?.joined")
        ben.get_by_role("textbox", name="Message").fill("hello from ben")
        ben.get_by_role("textbox", name="Message").press("Enter")
        expect(ben.locator("#messages li .body", has_text="hello from ben")).to_have_count(1)

        ann = login(new_page(), server.url, "ann")
        expect(ann.locator("#presence-count")).to_have_text("5")  # 3 ghosts, ann, ben: a count, no list
        expect(ann.locator("#presence-list li")).to_have_count(0)
        ann.goto(f"{server.url}/chat/lobby/")
        # Ben wrote a message on this page: the sidebar watches him and lists him; nobody else.
        expect(ann.locator('#presence-list li[data-username="ben"]')).to_have_attribute("aria-label", "ben (online)")
        expect(ann.locator("#presence-list li")).to_have_count(1)
        expect(ann.locator("#presence-count")).to_have_text("5")
        expect(ann.locator("#here-list")).to_have_text("5 people here")
        ben.close()
        expect(ann.locator('#presence-list li[data-username="ben"]')).to_have_count(0, timeout=5_000)
        expect(ann.locator("#presence-count")).to_have_text("4")
        expect(ann.locator("#here-list")).to_have_text("4 people here")

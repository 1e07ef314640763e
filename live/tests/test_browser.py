"""The live table in Chromium: the snapshot on arrival, then changes as they are published, flashed, in key order."""

import re

import pytest
from playwright.sync_api import expect

import live
from tests.browser import BROWSER_PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_live_table_shows_the_snapshot_then_each_change(new_page, live_server_url, make_user):
    make_user("trader", password=BROWSER_PASSWORD)
    live.publish("prices", "BOLT", {"bid": 7.05, "ask": 7.1})
    page = new_page()
    login(page, live_server_url, "trader")
    page.goto(f"{live_server_url}/live/prices/")
    bolt = page.locator('#live-table tbody tr[data-key="BOLT"]')
    expect(bolt.locator("td")).to_have_text(["7.05", "7.1"])  # the snapshot: one column per field
    expect(page.locator("#live-empty")).to_be_hidden()
    live.publish("prices", "ACME", {"bid": 1.5, "ask": 1.52})
    live.publish("prices", "BOLT", {"bid": 7.25, "ask": 7.1})
    expect(bolt.locator("td").first).to_have_text("7.25")
    expect(bolt.locator("td").first).to_have_class(re.compile(r"\bchanged\b"))  # the cell that changed flashes
    expect(bolt.locator("td").nth(1)).not_to_have_class(re.compile(r"\bchanged\b"))  # the one that did not, not
    expect(page.locator("#live-table tbody tr")).to_have_count(2)
    assert page.locator("#live-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)") == ["ACME", "BOLT"]
    expect(page.locator("#live-state")).to_have_text("Live: update 3")
    assert page.goto(f"{live_server_url}/live/Not%20A%20Name/").status == 404

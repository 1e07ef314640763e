"""Collaborative editing in Chromium: two people type into the same line at once and both end with the same
text holding each one's words intact; one goes offline (the network to the server cut), edits, comes back,
and it merges; each sees the other's cursor in their colour; a viewer cannot change the text."""

import re

import pytest
from playwright.sync_api import expect

from collab import services
from hub.testing.proxy import CuttableProxy
from hub.testing.servers import free_port
from tests.browser import BROWSER_PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_document(page, base_url, doc):
    page.goto(f"{base_url}/docs/{doc.pk}/")
    expect(page.locator("#doc-state")).to_have_text(re.compile("Saved|View only"))
    return page.locator("[data-doc-editor]")


def test_two_people_type_into_one_line_at_once_and_an_offline_edit_merges(new_page, hub_server, make_user):
    olga, ed = make_user("olga", password=BROWSER_PASSWORD), make_user("ed", password=BROWSER_PASSWORD)
    doc = services.document_create(owner=olga, title="Minutes")
    doc.editors.add(ed)
    proxy = CuttableProxy(free_port(), "127.0.0.1", hub_server.port).start()
    try:
        via_proxy = f"http://127.0.0.1:{proxy.listen_port}"  # Ed's network, which the test can cut
        a = login(new_page(), hub_server.url, "olga")
        b = login(new_page(), via_proxy, "ed")
        text_a, text_b = open_document(a, hub_server.url, doc), open_document(b, via_proxy, doc)
        text_a.click()
        text_a.press_sequentially("Plan: ")
        expect(text_b).to_have_value("Plan: ")
        # Both put their caret at the end of the line and type at the same time, key by key in turn.
        text_b.click()
        b.keyboard.press("End")
        a.keyboard.press("End")
        for mine, theirs in zip("alpha beta gamma ", "one two three ..."):
            a.keyboard.type(mine)
            b.keyboard.type(theirs)
        expect(a.locator("#doc-state")).to_have_text("Saved")
        expect(b.locator("#doc-state")).to_have_text("Saved")
        expect(text_b).to_have_value(text_a.input_value())
        merged = text_a.input_value()
        assert sorted(merged) == sorted("Plan: alpha beta gamma one two three ...")
        assert merged in ("Plan: alpha beta gamma one two three ...", "Plan: one two three ...alpha beta gamma ")
        # Each sees where the other is, in the other's colour.
        expect(a.locator('#doc-people li[data-username="ed"]')).to_be_visible()
        expect(a.locator('.doc-caret[data-username="ed"]')).to_have_count(1)
        expect(b.locator('.doc-caret[data-username="olga"]')).to_have_count(1)
        # Ed's network goes; both go on editing; it comes back and both texts merge.
        proxy.cut()
        expect(b.locator("#hub-status")).not_to_have_text("Connected")
        b.keyboard.press("Control+End")
        b.keyboard.type("\nwritten offline")
        expect(b.locator("#doc-state")).to_have_text(re.compile("^Offline"))
        a.keyboard.press("Control+Home")
        a.keyboard.type("Minutes\n")
        expect(a.locator("#doc-state")).to_have_text("Saved")
        proxy.restore()
        expect(b.locator("#hub-status")).to_have_text("Connected", timeout=30_000)
        final = f"Minutes\n{merged}\nwritten offline"
        expect(text_a).to_have_value(final)
        expect(text_b).to_have_value(final)
        expect(b.locator("#doc-state")).to_have_text("Saved")
        doc.refresh_from_db()
        assert services.text_of(doc) == final  # stored, not only shown
        # A fresh page of the document shows the same.
        expect(open_document(new_page_of(a), hub_server.url, doc)).to_have_value(final)
    finally:
        proxy.stop()


def new_page_of(page):
    return page.context.new_page()


def test_a_viewer_sees_the_text_live_and_cannot_change_it(new_page, live_server_url, make_user):
    olga = make_user("olga", password=BROWSER_PASSWORD)
    make_user("vic", password=BROWSER_PASSWORD)
    doc = services.document_create(owner=olga, title="Notice", public=True)
    a = login(new_page(), live_server_url, "olga")
    v = login(new_page(), live_server_url, "vic")
    text_a, text_v = open_document(a, live_server_url, doc), open_document(v, live_server_url, doc)
    expect(v.locator("#doc-state")).to_have_text("View only")
    text_a.click()
    text_a.press_sequentially("<b>read me</b>")
    expect(text_v).to_have_value("<b>read me</b>")  # text, never markup
    text_v.click()
    v.keyboard.type("vandal")
    expect(text_v).to_have_value("<b>read me</b>")
    # The list page shows it; a private document of someone else is a 404.
    v.goto(f"{live_server_url}/docs/")
    expect(v.locator("#doc-list li a", has_text="Notice")).to_have_count(1)
    secret = services.document_create(owner=olga, title="Secret")
    assert v.goto(f"{live_server_url}/docs/{secret.pk}/").status == 404

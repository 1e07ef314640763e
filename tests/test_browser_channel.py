"""channel.js in Chromium: a join refused for now is tried again; one refused for good is not.

The refusals are real: a daphne whose frame budget (HUB_FRAME_RATE) is smaller than a page's
burst of joins answers one of them `rate_limited`, and `room:nope` does not exist.
"""

import json

import pytest
from playwright.sync_api import expect

from tests.browser import signup
from hub.testing.servers import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SETTLED = "() => [...window.hub.subscriptions.values()].every((c) => c.joined || c.state === 'refused')"


def watch_joins(page):
    """[(topic, reply payload)] of every join the page's sockets send, in the order answered."""
    joins = []

    def on_socket(ws):
        asked = {}  # ref -> topic, per socket (refs restart with each page)

        def sent(text):
            frame = json.loads(text)
            if frame.get("event") == "join":
                asked[frame["ref"]] = frame["topic"]

        def received(text):
            frame = json.loads(text)
            if frame.get("event") == "reply" and frame.get("ref") in asked:
                joins.append((asked.pop(frame["ref"]), frame["payload"]))

        ws.on("framesent", sent)
        ws.on("framereceived", received)

    page.on("websocket", on_socket)
    return joins


def test_a_join_refused_for_now_is_tried_again_and_one_refused_for_good_is_not(new_page):
    # Three frames at once, then one a second: the home page's four joins overrun it.
    with DaphneServer(HUB_FRAME_RATE="3/3s") as server:
        page = new_page()
        joins = watch_joins(page)
        signup(page, server.url, "rita")
        page.wait_for_function(SETTLED)
        refused = [(topic, reply["error"]["code"]) for topic, reply in joins if not reply["ok"]]
        assert [code for _, code in refused] == ["rate_limited"], joins
        topic = refused[0][0]
        assert [reply["ok"] for answered, reply in joins if answered == topic] == [False, True]
        expect(page.locator("#hub-status")).to_have_text("Connected")  # never closed for flooding

        outcome = page.evaluate("""async () => {
            const channel = window.hub.channel("room:nope");
            const told = [];
            channel.onError((err) => told.push(err.code));
            const result = await channel.join().then(() => "joined", (err) => err.code);
            return {result, told, state: channel.state};
        }""")
        assert outcome == {"result": "not_found", "told": ["not_found"], "state": "refused"}

        # After a reconnect every channel joins again, except the refused one.
        before = len(joins)
        page.evaluate("""() => new Promise((resolve) => {
            const off = window.hub.onOpen(() => { off(); resolve(); });
            window.hub.socket.close();
        })""")
        page.wait_for_function(SETTLED)
        again = {topic for topic, reply in joins[before:] if reply["ok"]}
        assert again == {"presence", "notifications", "announcements", "chat"}
        assert "room:nope" not in {topic for topic, _ in joins[before:]}

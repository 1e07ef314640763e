"""The staff live view (issue 13 §4): topic `hub:admin` for staff only, its numbers from every server process
(over real daphne), rights checked again while joined; the page /admin/hub/ live in Chromium."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from playwright.sync_api import expect

from hub import live_stats
from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_expect, ws_request
from tests.browser import BROWSER_PASSWORD, login

PASSWORD = "correct-Horse-battery-9"


async def test_a_summary_counts_the_last_minute_only():
    from hub import counters

    live_stats._samples.clear()
    counters.count("errors", "live_test_code", n=5)
    first = live_stats.sample(now=0.0)
    assert first["per_second"]["frames_in"] == 0.0 and "live_test_code" not in first["last_minute"]["errors"]
    counters.count("frames_in", n=30)
    counters.count("errors", "live_test_code", n=2)
    later = live_stats.sample(now=10.0)
    assert later["per_second"]["frames_in"] == 3.0  # 30 frames over 10 s
    assert later["last_minute"]["errors"]["live_test_code"] == 2  # the 5 before the window are not in it
    for t in range(12, 80, 2):  # a minute later the 30 frames have left the window
        live_stats.sample(now=float(t))
    assert live_stats.sample(now=80.0)["per_second"]["frames_in"] == 0.0
    live_stats._samples.clear()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_staff_see_every_process_live_and_lose_the_view_with_their_rights(amake_user):
    boss = await amake_user("boss", password=PASSWORD, is_staff=True)
    await amake_user("carol", password=PASSWORD)
    with DaphneServer() as first, DaphneServer() as second:
        boss_client = await asyncio.to_thread(Browserless(first.url).login, "boss", PASSWORD)
        carol_client = await asyncio.to_thread(Browserless(second.url).login, "carol", PASSWORD)
        carol_ws, _ = await ws_connect(second, carol_client)
        refused = await ws_request(carol_ws, "hub:admin", "join")
        assert refused["error"]["code"] == "forbidden"
        assert (await ws_request(carol_ws, "hub:stats", "join"))["error"]["code"] == "unknown_topic"
        boss_ws, _ = await ws_connect(first, boss_client)
        joined = await ws_request(boss_ws, "hub:admin", "join")
        assert joined["ok"], joined
        assert {g["name"] for g in joined["data"]["gauges"]} >= {"presence_online_users", "outbox_backlog"}
        # Both processes report (each publishes when it starts, then every 2 s): carol's socket on
        # the second, the boss's on the first; carol's 2 frames show up in the second's rate.
        stats = await ws_expect(boss_ws, "hub:admin", "stats", timeout=15, where=lambda s: (
            len(s["processes"]) == 2 and s["totals"]["sockets"] == 2
            and [p["sockets"] for p in s["processes"]] == [1, 1]))
        assert stats["totals"]["last_minute"]["errors"] == {"forbidden": 1, "unknown_topic": 1}
        assert stats["totals"]["per_second"]["frames_in"] > 0
        await carol_ws.close()
        await ws_expect(boss_ws, "hub:admin", "stats", timeout=15, where=lambda s: s["totals"]["sockets"] == 1
                        and s["totals"]["last_minute"]["closes"] == {"1000": 1})
        second.stop()  # a stopping process removes its summary
        await ws_expect(boss_ws, "hub:admin", "stats", timeout=15, where=lambda s: len(s["processes"]) == 1)
        boss.is_staff = False
        await database_sync_to_async(boss.save)()
        removed = await ws_expect(boss_ws, "hub:admin", "removed", timeout=15)
        assert removed == {"reason": "forbidden"}
        assert (await ws_request(boss_ws, "hub:admin", "join"))["error"]["code"] == "forbidden"
        await boss_ws.close()


def test_a_process_gone_silent_drops_out():
    """A summary older than STALE_SECS is not shown and is removed (a process killed without a shutdown)."""
    from asgiref.sync import async_to_sync

    async def check():
        import json
        import time

        from hub.redis import get_async_redis

        redis = get_async_redis()
        dead = {"id": "dead", "host": "h", "pid": 1, "started_at": "x", "at": time.time() - live_stats.STALE_SECS - 1,
                "sockets": 9, "per_second": {}, "last_minute": {}}
        await redis.hset(live_stats._hash(), "dead", json.dumps(dead))
        await redis.hset(live_stats._hash(), "junk", "{not json")
        assert "dead" not in [p["id"] for p in await live_stats.processes()]
        assert not await redis.hexists(live_stats._hash(), "dead")
        assert not await redis.hexists(live_stats._hash(), "junk")

    async_to_sync(check)()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_live_view_page_updates_without_reloading(new_page, live_server_url, make_user):
    make_user("boss", password=BROWSER_PASSWORD, is_staff=True)
    make_user("carol", password=BROWSER_PASSWORD)
    page = new_page()
    login(page, live_server_url, "boss")
    page.goto(f"{live_server_url}/admin/")
    page.locator("#hub-admin-links").get_by_role("link", name="Live view").click()  # the admin's index links it
    expect(page.locator("#content h1")).to_have_text("Hub live view")
    assert page.url == f"{live_server_url}/admin/hub/"
    expect(page.locator("#hub-live-state")).to_have_text("Connected")
    sockets = page.locator('#hub-live-now tr[data-gauge="sockets"] td')
    expect(sockets).to_have_text("1")  # this page's own socket
    expect(page.locator("#hub-live-processes tbody tr")).to_have_count(1)
    expect(page.locator('#hub-live-now tr[data-gauge="presence_online_users"] td')).to_have_text("1")
    other = new_page()
    login(other, live_server_url, "carol")  # a second person connects: the view follows, no reload
    expect(sockets).to_have_text("2", timeout=15_000)
    expect(page.locator('#hub-live-now tr[data-gauge="presence_online_users"] td')).to_have_text("2", timeout=15_000)
    other.close()
    expect(sockets).to_have_text("1", timeout=15_000)
    expect(page.locator("#hub-live-closes tbody")).to_contain_text("1001")  # a closed tab says "going away"
    # Not for others: a signed-in non-staff user gets the admin's refusal, not the page.
    carol = new_page()
    login(carol, live_server_url, "carol")
    response = carol.goto(f"{live_server_url}/admin/hub/")
    assert response.status == 403 or "/login" in carol.url
    assert carol.locator("#hub-live").count() == 0

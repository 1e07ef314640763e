"""Live streams (issue 14 §2) over real Redis: publish and its limits, the join's snapshot, conflated `ticks`
with the last value winning, and streams an app closed with live.allow()."""

import asyncio

import pytest
from channels.db import database_sync_to_async

import live
from hub.errors import BadRequest
from live import api, store
from live.app_settings import AppSettings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_checks_left_behind():
    yield
    api._checks.clear()


async def test_publish_keeps_the_latest_value_of_each_key_and_counts_updates():
    assert await live.apublish("prices", "ACME", {"bid": 1}) == 1
    assert await live.apublish("prices", "ACME", {"bid": 2}) == 2
    assert await live.apublish("prices", "INIT", {"bid": 9}) == 3
    assert await store.snapshot("prices") == ({"ACME": {"bid": 2}, "INIT": {"bid": 9}}, 3)


@pytest.mark.parametrize("stream, key, value, says", [
    ("Prices", "k", {}, "name"), ("", "k", {}, "name"), ("p" * 65, "k", {}, "name"),
    ("prices", "", {}, "key"), ("prices", "k" * 65, {}, "key"), ("prices", 5, {}, "key"),
    ("prices", "k", [1], "JSON object"), ("prices", "k", {"x": float("nan")}, "not JSON"),
    ("prices", "k", {"x": object()}, "not JSON"), ("prices", "k", {"x": "y" * 1100}, "bytes"),
])
async def test_bad_updates_are_refused_with_what_is_wrong(stream, key, value, says):
    with pytest.raises(BadRequest, match=says):
        await live.apublish(stream, key, value)


async def test_a_stream_takes_no_new_key_past_its_limit(monkeypatch):
    monkeypatch.setattr(AppSettings, "KEYS_PER_STREAM_MAX", 2)
    await live.apublish("small", "a", {})
    await live.apublish("small", "b", {})
    with pytest.raises(BadRequest, match="holds 2 keys"):
        await live.apublish("small", "c", {})
    assert await live.apublish("small", "a", {"v": 2}) == 3  # an existing key still updates


async def test_sync_publish_from_a_worker_thread():
    seq = await asyncio.to_thread(live.publish, "jobs", "j1", {"state": "done"})
    assert seq == 1 and (await store.snapshot("jobs"))[0] == {"j1": {"state": "done"}}


async def test_join_answers_the_snapshot_then_ticks_carry_the_latest_values_conflated(amake_user, connect):
    await live.apublish("prices", "ACME", {"bid": 1})
    comm = await connect(await amake_user("watcher"))
    joined = await comm.ok("stream:prices", "join")
    assert joined == {"snapshot": {"ACME": {"bid": 1}}, "seq": 1}
    for n in range(200):  # far faster than HUB_STREAM_MAX_HZ frames a second
        await live.apublish("prices", f"K{n % 5}", {"n": n})
    final = {f"K{k}": {"n": 195 + k} for k in range(5)}
    seen, frames, last_seq = {}, 0, 1
    while seen != final or last_seq < 201:
        ticks = await comm.expect("stream:prices", "ticks")
        frames += 1
        assert ticks["seq"] > last_seq  # never an older frame after a newer one
        for key, value in ticks["values"].items():
            assert value["n"] >= seen.get(key, {"n": -1})["n"]  # never an older value after a newer one
        seen.update(ticks["values"])
        last_seq = ticks["seq"]
    assert frames < 20  # 200 updates, conflated into a few frames (10 a second at most)


async def test_a_socket_that_joins_late_gets_the_snapshot_and_only_newer_ticks(amake_user, connect):
    first = await connect(await amake_user("first"))
    await first.ok("stream:feed", "join")
    await live.apublish("feed", "a", {"v": 1})
    await first.expect("stream:feed", "ticks", where=lambda t: t["values"] == {"a": {"v": 1}})
    late = await connect(await amake_user("late"))
    assert await late.ok("stream:feed", "join") == {"snapshot": {"a": {"v": 1}}, "seq": 1}
    await live.apublish("feed", "b", {"v": 2})
    ticks = await late.expect("stream:feed", "ticks")
    assert ticks == {"values": {"b": {"v": 2}}, "seq": 2}
    assert await first.expect("stream:feed", "ticks") == {"values": {"b": {"v": 2}}, "seq": 2}


async def test_a_bad_stream_name_is_a_bad_request(amake_user, connect):
    comm = await connect(await amake_user("typo"))
    assert (await comm.request("stream:Bad Name", "join"))["error"]["code"] == "bad_request"


async def test_an_app_can_close_a_stream_and_it_is_checked_again_when_rights_change(amake_user, connect):
    live.allow("desk.", lambda user, stream: user.is_staff)
    boss, other = await amake_user("boss", is_staff=True), await amake_user("other")
    refused = await (await connect(other)).request("stream:desk.fx", "join")
    assert refused["error"]["code"] == "forbidden"
    comm = await connect(boss)
    assert (await comm.ok("stream:desk.fx", "join"))["snapshot"] == {}
    assert (await comm.ok("stream:public", "join"))["snapshot"] == {}  # other streams stay open
    boss.is_staff = False
    await database_sync_to_async(boss.save)()  # the socket re-reads its user (hub.signals); the feed checks again
    assert await comm.expect("stream:desk.fx", "removed", timeout=10) == {"reason": "forbidden"}  # no update needed
    assert (await comm.request("stream:desk.fx", "join"))["error"]["code"] == "forbidden"


def test_live_demo_publishes_a_bounded_feed_and_refuses_silly_bounds():
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("live_demo", "--stream", "demo", "--symbols", "3", "--rate", "200", "--seconds", "0.3", stdout=out)
    sent = int(out.getvalue().split(": ")[1].split()[0])
    assert 30 <= sent <= 61  # 200 a second for 0.3 s (the last one may round up)
    values, seq = asyncio.run(store.snapshot("demo"))
    assert seq == sent and set(values) <= {"SYM000", "SYM001", "SYM002"}
    assert all(set(value) == {"bid", "ask"} for value in values.values())
    with pytest.raises(CommandError):
        call_command("live_demo", "--rate", "100000")

"""The topics docs/python-api.md shows, run exactly as written: joined, re-joined, used, left."""

import re
from pathlib import Path

import pytest

from hub import topics
from hub.push import apush_to_topic, topic_group
from tests.layer import group_members

pytestmark = pytest.mark.django_db(transaction=True)

DOC = Path(__file__).resolve().parent.parent / "docs" / "python-api.md"


def doc_topic(class_name, **helpers):
    """Exec the doc's python block that defines `class_name`, with `helpers` standing in for the app's own code."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    [source] = [block for block in blocks if f"class {class_name}(Topic)" in block]
    namespace = dict(helpers)
    exec(compile(source, f"{DOC}:{class_name}", "exec"), namespace)
    return namespace[class_name]


@pytest.fixture
def order_topic():
    cancelled = []

    async def user_owns_order(user, order_id):
        return order_id != "theirs"

    async def order_status(order_id):
        return "paid"

    async def cancel_order(order_id, reason):
        cancelled.append((order_id, reason))
        return True

    topics.register("order:*", doc_topic("OrderTopic", user_owns_order=user_owns_order, order_status=order_status,
                                         cancel_order=cancel_order))
    yield cancelled
    topics.unregister("order:*")


@pytest.fixture
def board_topic():
    topics.register("board:*", doc_topic("BoardTopic"))
    yield
    topics.unregister("board:*")


async def test_the_order_topic_works_as_documented(amake_user, connect, order_topic):
    comm = await connect(await amake_user("alice"))
    assert await comm.ok("order:42", "join") == {"status": "paid"}
    assert await comm.ok("order:42", "join") == {"status": "paid"}  # a duplicate join starts afresh
    assert len(await group_members(topic_group("order:42"))) == 1
    await apush_to_topic("order:42", "status", {"status": "shipped"})
    assert await comm.expect("order:42", "status") == {"status": "shipped"}
    assert await comm.ok("order:42", "cancel", {"reason": "changed my mind"}) == {"cancelled": True}
    assert order_topic == [("42", "changed my mind")]
    assert (await comm.error("order:42", "cancel", {}))["code"] == "bad_request"
    assert (await comm.error("order:theirs", "join"))["code"] == "forbidden"
    await comm.ok("order:42", "leave")
    assert await group_members(topic_group("order:42")) == set()  # join, join, leave: nothing left


async def test_the_board_topic_tracks_presence_as_documented(amake_user, connect, board_topic):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    a, b = await connect(alice), await connect(bob)
    assert [p["username"] for p in (await a.ok("board:1", "join"))["present"]["users"]] == ["alice"]
    present = (await b.ok("board:1", "join"))["present"]["users"]
    assert sorted(p["username"] for p in present) == ["alice", "bob"]
    assert all(p["metas"] == [{"tool": "pen"}] for p in present)
    await a.expect("board:1", "presence", where=lambda d: "bob" in [p["username"] for p in d["joins"]])
    await b.ok("board:1", "leave")
    diff = await a.expect("board:1", "presence", where=lambda d: d["leaves"])
    assert [p["username"] for p in diff["leaves"]] == ["bob"]
    assert len(await group_members(topic_group("board:1"))) == 1


async def test_the_exports_topic_of_the_ui_example_receives_its_pushes(amake_user, connect):
    import hub

    topics.register("exports", doc_topic("ExportsTopic"))
    try:
        alice = await amake_user("alice")
        comm = await connect(alice)
        assert await comm.ok("exports", "join") == {}
        await hub.asend_to_user(alice, "exports", "ready", {"name": "orders.csv", "url": "/media/orders.csv"})
        assert await comm.expect("exports", "ready") == {"name": "orders.csv", "url": "/media/orders.csv"}
    finally:
        topics.unregister("exports")


async def test_rejoining_the_board_shows_the_others_nothing(amake_user, connect, board_topic):
    a, b = await connect(await amake_user("alice")), await connect(await amake_user("bob"))
    await a.ok("board:1", "join")
    await b.ok("board:1", "join")
    await a.expect("board:1", "presence", where=lambda d: "bob" in [p["username"] for p in d["joins"]])
    for _ in range(3):  # re-joins allowed at once (3 per 10 s per topic)
        await b.ok("board:1", "join")
    assert await a.nothing(0.6, topic="board:1")  # longer than a presence window: no leave, no join

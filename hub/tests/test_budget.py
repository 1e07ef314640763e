"""The per-user budget for expensive events (hub.budget, `Topic.costs`) over the real channel layer and Redis."""

import pytest

from chat.topics import RoomTopic
from hub import rates, topics

pytestmark = pytest.mark.django_db(transaction=True)


class WeighedTopic(topics.Topic):
    events = ("heavy", "light")
    costs = {"heavy": 10}

    async def join(self, payload):
        return {}

    async def on_heavy(self, payload):
        return {"done": "heavy"}

    async def on_light(self, payload):
        return {"done": "light"}


@pytest.fixture(autouse=True)
def weighed_topic(settings):
    settings.HUB_USER_BUDGET = "30/60s"  # 30 units, refilled at 0.5 a second
    topics.register("weighed", WeighedTopic)
    yield
    topics.unregister("weighed")


async def test_weighted_events_spend_one_budget_shared_by_every_socket_of_the_user(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    tab1, tab2, bobs = await connect(alice), await connect(alice), await connect(bob)
    for comm in (tab1, tab2, bobs):
        await comm.ok("weighed", "join")
    await tab1.ok("weighed", "heavy")
    await tab1.ok("weighed", "heavy")
    await tab2.ok("weighed", "heavy")  # 30 of 30: the two tabs drew on one budget
    refused = await tab2.error("weighed", "heavy")
    assert refused["code"] == "rate_limited" and 15 <= refused["retry_after"] <= 20  # 10 units at 0.5/s
    assert (await tab1.error("weighed", "heavy"))["code"] == "rate_limited"
    for _ in range(20):  # weight-1 events are the per-socket budget's business only
        await tab1.ok("weighed", "light")
    await bobs.ok("weighed", "heavy")  # another user has a budget of their own
    await database_sync(rates.forget_user)(alice.pk)  # deleting a user forgets their budget too
    await tab2.ok("weighed", "heavy")


async def test_rejoining_a_joined_topic_is_throttled_and_leaves_it_joined(amake_user, connect, settings):
    settings.HUB_USER_BUDGET = "100000/1s"
    comm = await connect(await amake_user("alice"))
    await comm.ok("weighed", "join")
    for _ in range(3):
        await comm.ok("weighed", "join")
    refused = await comm.error("weighed", "join")
    assert refused["code"] == "rate_limited" and refused["retry_after"] > 0
    await comm.ok("weighed", "light")  # still joined
    await comm.ok("weighed", "leave")
    await comm.ok("weighed", "join")  # a fresh join after a leave is not a re-join


def test_a_room_join_with_since_weighs_as_much_as_a_history_page():
    assert RoomTopic.cost("join", {}) == 5
    assert RoomTopic.cost("join", {"since": 10}) == RoomTopic.cost("history", {}) == 10
    assert RoomTopic.cost("send", {"body": "hi"}) == 1


def database_sync(fn):
    from channels.db import database_sync_to_async

    return database_sync_to_async(fn)

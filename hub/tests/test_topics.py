"""The Topic contract: handlers own their subscriptions, a duplicate join starts afresh, the registry checks classes."""

import itertools

import pytest
from django.core.exceptions import ImproperlyConfigured

from hub import topics
from hub.errors import Forbidden
from hub.push import topic_group
from tests.layer import group_members

pytestmark = pytest.mark.django_db(transaction=True)


class CountingTopic(topics.Topic):
    """Subscribes twice and never unsubscribes, as a careless app would; records its instances' leaves."""

    events = ("ping",)
    leaves = []
    numbers = itertools.count(1)

    async def join(self, payload):
        self.number = next(self.numbers)
        await self.subscribe()
        await self.subscribe()
        await self.subscribe(topic_group("counting-extra"))
        if payload.get("fail"):
            raise Forbidden("No.")
        return {"instance": self.number}

    async def leave(self):
        self.leaves.append(self.number)

    async def on_ping(self, payload):
        return {"instance": self.number}


@pytest.fixture(autouse=True)
def counting_topic():
    CountingTopic.leaves.clear()
    topics.register("counting:*", CountingTopic)
    yield
    topics.unregister("counting:*")


async def subscribed():
    return {name: len(await group_members(topic_group(name))) for name in ("counting:a", "counting-extra")}


async def test_join_join_leave_leaves_no_subscription(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    first = (await comm.ok("counting:a", "join"))["instance"]
    second = (await comm.ok("counting:a", "join"))["instance"]
    assert await subscribed() == {"counting:a": 1, "counting-extra": 1}
    assert CountingTopic.leaves == [first]  # the duplicate join left the old handler first
    assert first != second and (await comm.ok("counting:a", "ping"))["instance"] == second
    await comm.ok("counting:a", "leave")
    assert await subscribed() == {"counting:a": 0, "counting-extra": 0}
    assert CountingTopic.leaves == [first, second]


async def test_a_failed_join_keeps_nothing(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    assert (await comm.error("counting:a", "join", {"fail": True}))["code"] == "forbidden"
    assert await subscribed() == {"counting:a": 0, "counting-extra": 0}
    assert (await comm.error("counting:a", "ping"))["code"] == "not_joined"


async def test_a_failed_rejoin_leaves_the_topic(amake_user, connect):
    comm = await connect(await amake_user("alice"))
    await comm.ok("counting:a", "join")
    assert (await comm.error("counting:a", "join", {"fail": True}))["code"] == "forbidden"
    assert await subscribed() == {"counting:a": 0, "counting-extra": 0}
    assert (await comm.error("counting:a", "ping"))["code"] == "not_joined"


async def test_closing_the_socket_drops_every_subscription_of_its_topics(amake_user, connect):
    alice = await amake_user("alice")
    comm, other = await connect(alice), await connect(alice)
    for socket in (comm, other):
        await socket.ok("counting:a", "join")
    assert await subscribed() == {"counting:a": 2, "counting-extra": 2}
    await comm.disconnect()
    assert await subscribed() == {"counting:a": 1, "counting-extra": 1}


def make_topic(name="T", **attributes):
    async def join(self, payload):
        return {}

    return type(name, (topics.Topic,), {"join": join, **attributes})


async def on_event(self, payload):
    return {}


@pytest.mark.parametrize("attributes, problem", [
    ({"events": ("go",)}, "no on_go"),
    ({"on_go": on_event}, "does not list it"),
    ({"events": ("go", "stop"), "on_go": on_event}, "no on_stop"),
    ({"events": ("join",), "on_join": on_event}, "not a usable event name"),
    ({"events": ("Go",), "on_Go": on_event}, "not a usable event name"),
    ({"events": "go", "on_go": on_event}, "tuple of distinct"),
    ({"events": ("go", "go"), "on_go": on_event}, "tuple of distinct"),
    ({"events": ("go",), "on_go": on_event, "costs": [("go", 2)]}, "must be a dict"),
    ({"events": ("go",), "on_go": on_event, "costs": {"stop": 2}}, "neither 'join' nor one of its events"),
    ({"events": ("go",), "on_go": on_event, "costs": {"go": 0}}, "whole number from 1"),
    ({"events": ("go",), "on_go": on_event, "costs": {"go": 2.5}}, "whole number from 1"),
    ({"events": ("go",), "on_go": on_event, "costs": {"join": True}}, "whole number from 1"),
    ({"events": ("go",), "on_go": on_event, "costs": {"go": 10**6}}, "whole number from 1"),
])
def test_register_refuses_a_class_whose_events_and_handlers_disagree(attributes, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        topics.register("broken", make_topic(**attributes))
    assert topics.lookup("broken") == (None, None)


def test_register_refuses_a_topic_without_join():
    with pytest.raises(ImproperlyConfigured, match="must define"):
        topics.register("broken", type("NoJoin", (topics.Topic,), {}))


def test_registry_patterns():
    topic_a, other = make_topic("A", events=("go",), on_go=on_event), make_topic("B")
    topics.register("alpha", topic_a)
    topics.register("alpha", topic_a)  # idempotent
    try:
        assert topics.lookup("alpha") == (topic_a, "")
        assert topics.lookup("alphabet") == (None, None)
        assert topics.lookup("counting:room-1") == (CountingTopic, "room-1")
        assert topics.lookup("counting:") == (None, None)
        with pytest.raises(ValueError):
            topics.register("alpha", other)
        with pytest.raises(ValueError):
            topics.register("Bad Pattern", topic_a)
        with pytest.raises(TypeError):
            topics.register("beta", object)
    finally:
        topics.unregister("alpha")


class SlowTopic(topics.Topic):
    """Its join subscribes, then waits for the test to let it finish."""

    release = stopped = None

    async def join(self, payload):
        await self.subscribe()
        await self.release.wait()
        return {}

    async def leave(self):
        self.stopped.set()


async def test_a_join_that_finishes_after_its_socket_closed_is_stopped_not_kept(amake_user, connect, settings):
    import asyncio

    from channels.db import database_sync_to_async
    from django.contrib.sessions.models import Session

    from hub import protocol

    settings.HUB_SESSION_CHECK_SECS = 1
    SlowTopic.release, SlowTopic.stopped = asyncio.Event(), asyncio.Event()
    topics.register("slow", SlowTopic)
    try:
        comm = await connect(await amake_user("alice"))
        await comm.send_frame("slow", "join", {}, ref="j")
        await database_sync_to_async(lambda: Session.objects.all().delete())()
        assert await comm.expect_close(timeout=5) == protocol.CLOSE_SESSION_ENDED  # the watchdog, mid-join
        assert len(await group_members(topic_group("slow"))) == 1  # the join is still under way
        SlowTopic.release.set()
        await asyncio.wait_for(SlowTopic.stopped.wait(), 5)
        assert await group_members(topic_group("slow")) == set()
    finally:
        topics.unregister("slow")

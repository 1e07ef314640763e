"""What the API sends reaches real sockets: notifications, announcements to their audience, custom events."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group

from hub import topics
from hub.topics import Topic

pytestmark = pytest.mark.django_db(transaction=True)


class OrderTopic(Topic):
    """A topic an app of the site's own registers (docs/python-api.md): anyone may join, there are no events."""

    async def join(self, payload):
        return {}


@pytest.fixture
def order_topic():
    topics.register("order:*", OrderTopic)
    yield
    topics.unregister("order:*")


@pytest.fixture
def amake_token(make_token):
    return database_sync_to_async(make_token)


@pytest.fixture
def post(api_post):
    return database_sync_to_async(api_post)


async def test_a_notification_posted_reaches_the_recipients_socket(amake_user, connect, amake_token, post):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    a, b = await connect(alice), await connect(bob)
    for comm in (a, b):
        await comm.ok("notifications", "join")
    response = await post("/api/v1/notifications", {"recipients": ["alice"], "verb": "Your export is ready",
                                                    "url": "/exports/7"}, token=await amake_token())
    assert response.status_code == 201
    pushed = await a.expect("notifications", "new")
    assert pushed["notification"]["id"] == response.json()["ids"][0]
    assert (pushed["notification"]["verb"], pushed["notification"]["url"], pushed["unread"]) == (
        "Your export is ready", "/exports/7", 1)
    assert await b.nothing(0.3, topic="notifications")


async def test_an_announcement_reaches_only_its_audience(amake_user, connect, amake_token, post):
    staff, member, other = await amake_user("sam", is_staff=True), await amake_user("mia"), await amake_user("oz")
    ops = await database_sync_to_async(Group.objects.create)(name="ops")
    await database_sync_to_async(member.groups.add)(ops)
    comms = {}
    for user in (staff, member, other):
        comms[user.username] = await connect(user)
        await comms[user.username].ok("announcements", "join")
    token = await amake_token(scopes=["announce"])
    assert (await post("/api/v1/announcements", {"title": "to staff", "body": "b", "audience": "staff"},
                       token=token)).status_code == 201
    assert (await post("/api/v1/announcements", {"title": "to ops", "body": "b", "audience": {"group": "ops"}},
                       token=token)).status_code == 201
    assert (await comms["sam"].expect("announcements", "new"))["announcement"]["title"] == "to staff"
    assert (await comms["mia"].expect("announcements", "new"))["announcement"]["title"] == "to ops"
    for name in ("sam", "mia", "oz"):
        assert await comms[name].nothing(0.3, topic="announcements", event="new")


async def test_an_event_reaches_the_named_users_sockets_joined_to_the_topic(amake_user, connect, amake_token, post,
                                                                            order_topic):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    joined, elsewhere, other_user = await connect(alice), await connect(alice), await connect(bob)
    await joined.ok("order:42", "join")
    await elsewhere.ok("order:7", "join")
    await other_user.ok("order:42", "join")
    response = await post("/api/v1/events", {"users": ["alice"], "topic": "order:42", "event": "shipped",
                                             "payload": {"carrier": "DHL"}}, token=await amake_token(scopes=["events"]))
    assert (response.status_code, response.json()) == (202, {"users": 1})
    assert await joined.expect("order:42", "shipped") == {"carrier": "DHL"}
    assert await elsewhere.nothing(0.3)
    assert await other_user.nothing(0.3)

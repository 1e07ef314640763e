"""Grouped notifications (issue 15 §4): notify(..., group_key=...) collapses a recipient's unread notifications of
one key into one item with a count and its latest actors, pushed as `updated`, resumable, read as one."""

import pytest
from channels.db import database_sync_to_async

import notifications
from hub.errors import BadRequest
from notifications.models import Notification
from notifications.serializers import who

pytestmark = pytest.mark.django_db(transaction=True)


async def test_notifications_of_one_key_collapse_into_one_item_pushed_as_updated(amake_user, connect):
    dave = await amake_user("dave")
    alice, bob, carol = [await amake_user(name) for name in ("alice", "bob", "carol")]
    comm = await connect(dave)
    await comm.ok("notifications", "join")
    [first] = await notifications.anotify(dave, "commented on Plans", actor=alice, group_key="post:1")
    pushed = await comm.expect("notifications", "new")
    assert pushed["notification"]["count"] == 1 and pushed["notification"]["actors"] == [
        {"id": alice.pk, "username": "alice", "display_name": "alice"}]
    for actor in (bob, carol, alice):
        [grouped] = await notifications.anotify(dave, "commented on Plans", actor=actor, group_key="post:1",
                                                url="/posts/1/")
        assert grouped.pk == first.pk
        update = await comm.expect("notifications", "updated")
        assert update["unread"] == 1 and update["notification"]["id"] == first.pk
    n = update["notification"]
    assert n["count"] == 4 and n["actor_count"] == 3 and n["url"] == "/posts/1/"
    assert [a["username"] for a in n["actors"]] == ["alice", "carol", "bob"]  # distinct, the latest first
    assert n["seq"] == 4  # each update took the next position of dave's stream
    assert await database_sync_to_async(Notification.objects.count)() == 1
    # Another key, or none, is its own item.
    await notifications.anotify(dave, "liked Plans", actor=bob, group_key="likes:1")
    await notifications.anotify(dave, "Your export is ready")
    assert await database_sync_to_async(Notification.objects.count)() == 3
    # A client that resumes after position 1 gets the grouped item (position 4) among the items.
    data = await comm.ok("notifications", "join", {"since_seq": 1})
    assert [(item["id"], item["count"]) for item in data["items"]][0] == (first.pk, 4)
    # Reading it reads the group; the next of that key starts a new item.
    await comm.ok("notifications", "read", {"ids": [first.pk]})
    [fresh] = await notifications.anotify(dave, "commented on Plans", actor=carol, group_key="post:1")
    assert fresh.pk != first.pk and fresh.count == 1
    assert (await comm.expect("notifications", "new", where=lambda p: p["notification"]["id"] == fresh.pk))


async def test_one_call_to_many_recipients_groups_for_those_who_have_the_key_unread(amake_user, connect):
    ann, ben, cat, actor = [await amake_user(name) for name in ("ann", "ben", "cat", "actor")]
    await notifications.anotify(ann, "replied", actor=actor, group_key="thread:9")
    rows = await notifications.anotify([ann, ben, cat], "replied", actor=actor, group_key="thread:9")
    counts = {n.recipient_id: n.count for n in rows}
    assert counts == {ann.pk: 2, ben.pk: 1, cat.pk: 1}
    assert await database_sync_to_async(Notification.objects.count)() == 3


@pytest.mark.parametrize("group_key", ["", "   ", "k" * 101, 5, ["a"]])
def test_a_bad_group_key_is_refused_before_anything_is_written(make_user, group_key):
    with pytest.raises(BadRequest, match="group_key"):
        notifications.notify(make_user("ann"), "x", group_key=group_key)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("names, count, phrase", [
    (["alice"], 1, "alice"), (["alice", "bob"], 2, "alice and bob"), (["a", "b", "c"], 3, "a, b and c"),
    (["a", "b", "c"], 4, "a, b and 2 others"), (["a", "b", "c"], 5, "a, b and 3 others"), ([], 0, ""),
])
def test_the_subject_of_a_grouped_item(names, count, phrase):
    assert who(names, count) == phrase


def test_the_list_page_shows_who_did_it(client, make_user):
    dave = make_user("dave")
    for name in ("a1", "a2", "a3", "a4", "a5"):
        notifications.notify(dave, "commented on Plans", actor=make_user(name), group_key="post:1")
    client.force_login(dave)
    page = client.get("/notifications/").content.decode()
    assert "a5, a4 and 3 others" in page and "commented on Plans" in page

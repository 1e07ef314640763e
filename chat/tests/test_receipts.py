"""Receipts you can see (issue 15 §6): read markers in small rooms' joins and pushes, no mention notification
for someone looking at the room, and the members lookup behind the composer's @name completion."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from chat import app_settings, selectors, services
from chat.models import Membership
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def user_of(user):
    return {"id": user.pk, "username": user.username, "display_name": user.username}


@database_sync_to_async
def add_members(room, count):
    """`count` more members, made in bulk (their names: filler00, filler01, ...)."""
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"filler{i:02}") for i in range(count)])
    Membership.objects.bulk_create([Membership(room=room, user=user) for user in users])


@database_sync_to_async
def notified():
    return sorted(Notification.objects.values_list("recipient__username", flat=True))


# --- read markers


async def test_a_small_rooms_join_lists_every_members_marker_and_reads_reach_the_others(
        amake_user, amake_room, connect):
    alice, bob, carol = await amake_user("alice"), await amake_user("bob"), await amake_user("carol")
    await amake_room("team", kind="private", members=[alice, bob, carol])
    a, b = await connect(alice), await connect(bob)
    first = await a.ok("room:team", "join")
    assert first["read_markers"] == [{"user": user_of(u), "last_read_id": None} for u in (alice, bob, carol)]
    await b.ok("room:team", "join")
    ids = [(await a.ok("room:team", "send", {"body": f"m{i}"}))["message"]["id"] for i in range(2)]
    await b.ok("room:team", "read", {"up_to": ids[0]})
    assert await a.expect("room:team", "read") == {"user": user_of(bob), "up_to": ids[0]}
    again = await a.ok("room:team", "join")
    assert {m["user"]["username"]: m["last_read_id"] for m in again["read_markers"]} == {
        "alice": None, "bob": ids[0], "carol": None}


async def test_a_public_rooms_new_member_is_in_the_markers_of_their_own_join(amake_user, amake_room, connect):
    alice = await amake_user("alice")
    await amake_room("plaza")
    data = await (await connect(alice)).ok("room:plaza", "join")  # joining made alice a member
    assert data["read_markers"] == [{"user": user_of(alice), "last_read_id": None}]


async def test_a_big_room_lists_no_markers_and_still_tells_reads_as_before(
        amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await amake_room("hall", members=[alice, bob])
    await add_members(room, app_settings.RECEIPTS_MAX_MEMBERS - 1)  # 21 members: one past the limit
    a, b, b2 = await connect(alice), await connect(bob), await connect(bob)
    assert (await a.ok("room:hall", "join"))["read_markers"] is None
    await b.ok("room:hall", "join")
    await b2.ok("room:hall", "join")  # bob's other tab
    message = (await a.ok("room:hall", "send", {"body": "hello all"}))["message"]
    assert await b.ok("room:hall", "read", {"up_to": message["id"]}) == {"up_to": message["id"]}
    assert await b2.expect("room:hall", "read") == {"user": user_of(bob), "up_to": message["id"]}
    assert await a.expect("room:hall", "read") == {"user": user_of(bob), "up_to": message["id"]}  # the contract
    assert await b.nothing(0.3, event="read")  # not the socket that read


def test_the_markers_of_a_big_room_cost_one_bounded_query(make_user, make_room, django_assert_num_queries):
    room = make_room("hall", members=[make_user(f"u{i:02}") for i in range(app_settings.RECEIPTS_MAX_MEMBERS)])
    with django_assert_num_queries(1):
        assert len(selectors.room_read_markers(room=room)) == app_settings.RECEIPTS_MAX_MEMBERS
    Membership.objects.create(room=room, user=make_user("one-more"))
    with django_assert_num_queries(1):
        assert selectors.room_read_markers(room=room) is None


# --- mentions of someone looking at the room


async def test_a_mention_does_not_notify_someone_looking_at_the_room_and_does_once_they_are_not(
        amake_user, amake_room, connect):
    alice, bob, carol = await amake_user("alice"), await amake_user("bob"), await amake_user("carol")
    await amake_room("team", members=[alice, bob, carol])
    await amake_room("other", members=[carol])
    a, b, c = await connect(alice), await connect(bob), await connect(carol)
    await a.ok("room:team", "join")
    await b.ok("room:team", "join")  # bob is looking at the room
    await c.ok("room:other", "join")  # carol is online, in another room
    await a.ok("room:team", "send", {"body": "@bob @carol standup?"})
    assert await notified() == ["carol"]
    await b.ok("room:team", "leave")
    await a.ok("room:team", "send", {"body": "@bob where did you go?"})
    assert await notified() == ["bob", "carol"]


async def test_a_direct_message_or_mention_does_not_notify_the_other_while_they_look(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    dm, _ = await database_sync_to_async(services.dm_open)(user=alice, username="bob")
    a, b = await connect(alice), await connect(bob)
    await a.ok(f"room:{dm.slug}", "join")
    await b.ok(f"room:{dm.slug}", "join")
    await a.ok(f"room:{dm.slug}", "send", {"body": "@bob look"})
    assert await notified() == []
    await b.ok(f"room:{dm.slug}", "leave")
    await a.ok(f"room:{dm.slug}", "send", {"body": "@bob look now"})
    assert await notified() == ["bob"]


async def test_presence_is_asked_about_the_mentioned_only(amake_user, amake_room, connect):
    from presence import api as presence

    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("team", members=[alice, bob])
    b = await connect(bob)
    await b.ok("room:team", "join")
    assert await presence.present_among("room:team", [alice.pk, bob.pk, bob.pk]) == {bob.pk}
    assert await presence.present_among("room:team", []) == set()


# --- the members lookup (@name completion)


async def test_members_are_suggested_by_prefix_ignoring_case_without_the_asker_or_strangers(
        amake_user, amake_room, connect):
    alice, albert, alma = await amake_user("alice"), await amake_user("Albert"), await amake_user("alma")
    bob = await amake_user("bob")
    await amake_user("alfred")  # not a member
    await amake_user("alina", is_active=False)
    room = await amake_room("team", kind="private", members=[alice, albert, alma, bob])
    await database_sync_to_async(Membership.objects.create)(room=room, user=await database_sync_to_async(
        get_user_model().objects.get)(username="alina"))
    a = await connect(alice)
    await a.ok("room:team", "join")
    reply = await a.ok("room:team", "members", {"prefix": "AL"})
    assert reply == {"members": [user_of(albert), user_of(alma)]}
    assert [u["username"] for u in (await a.ok("room:team", "members", {"prefix": ""}))["members"]] == [
        "Albert", "alma", "bob"]
    assert (await a.ok("room:team", "members", {"prefix": "z"}))["members"] == []
    for payload in ({}, {"prefix": 5}, {"prefix": "a" * 151}):
        assert (await a.error("room:team", "members", payload))["code"] == "bad_request"
    await database_sync_to_async(Membership.objects.filter(room=room, user=alice).delete)()
    b = await connect(bob)
    await b.ok("room:team", "join")
    assert [u["username"] for u in (await b.ok("room:team", "members", {"prefix": "a"}))["members"]] == [
        "Albert", "alma"]


async def test_a_big_rooms_members_lookup_answers_at_most_ten(amake_user, amake_room, connect):
    alice = await amake_user("alice")
    room = await amake_room("hall", members=[alice])
    await add_members(room, 30)
    a = await connect(alice)
    await a.ok("room:hall", "join")
    names = [u["username"] for u in (await a.ok("room:hall", "members", {"prefix": "fill"}))["members"]]
    assert names == [f"filler{i:02}" for i in range(app_settings.MEMBER_SUGGESTIONS_MAX)]
    assert [u["username"] for u in (await a.ok("room:hall", "members", {"prefix": "filler2"}))["members"]] == [
        f"filler2{i}" for i in range(10)]


def test_a_former_member_of_a_private_room_gets_no_suggestions(make_user, make_room):
    from hub.errors import Forbidden

    ann, ben = make_user("ann"), make_user("ben")
    room = make_room("team", kind="private", members=[ben])
    with pytest.raises(Forbidden):
        services.member_suggestions(room=room, user=ann, prefix="b")

"""Chat services and the edges of the room topic: rollbacks push nothing, DMs stay private, typing is throttled."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from chat import selectors, services
from chat.models import Message
from hub.errors import BadRequest
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


async def quiet(comm, seconds=0.8):
    """Read every frame that arrives within `seconds` into comm.buffer (no frame has this topic)."""
    assert await comm.nothing(seconds, topic="(none)")


async def test_a_rolled_back_send_pushes_nothing(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await amake_room("lounge", members=[bob])
    b = await connect(bob)
    await b.ok("chat", "join")
    await b.ok("room:lounge", "join")

    def send_then_fail():
        with transaction.atomic():
            services.message_send(room=room, author=alice, body="never happened")
            raise Rollback

    with pytest.raises(Rollback):
        await database_sync_to_async(send_then_fail)()
    await quiet(b)
    assert not [f for f in b.buffer if f.get("event") in ("message", "unread")]
    assert not await database_sync_to_async(Message.objects.exists)()
    message, created = await database_sync_to_async(services.message_send)(room=room, author=alice, body="real")
    assert created and (await b.expect("room:lounge", "message"))["message"]["id"] == message.pk


async def test_direct_rooms_are_invisible_to_a_third_user(amake_user, connect):
    alice, bob, eve = await amake_user("alice"), await amake_user("bob"), await amake_user("eve")
    a, e = await connect(alice), await connect(eve)
    await a.ok("chat", "join")
    await e.ok("chat", "join")
    slug = (await a.ok("chat", "open_dm", {"username": "bob"}))["room"]["slug"]
    await a.ok(f"room:{slug}", "join")
    await a.ok(f"room:{slug}", "send", {"body": "just us"})
    assert (await e.error(f"room:{slug}", "join"))["code"] == "not_found"
    assert await e.nothing(0.4)
    assert slug not in [r["slug"] for r in (await e.ok("chat", "join"))["rooms"]]


async def test_a_dm_to_someone_looking_at_it_does_not_notify(amake_user, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    a, b = await connect(alice), await connect(bob)
    await a.ok("chat", "join")
    slug = (await a.ok("chat", "open_dm", {"username": "bob"}))["room"]["slug"]
    await b.ok(f"room:{slug}", "join")
    await a.ok(f"room:{slug}", "join")
    await a.ok(f"room:{slug}", "send", {"body": "you see this live"})
    await b.expect(f"room:{slug}", "message")
    assert not await database_sync_to_async(Notification.objects.exists)()
    await b.ok(f"room:{slug}", "leave")
    await a.ok(f"room:{slug}", "send", {"body": "now you are away"})
    assert await database_sync_to_async(Notification.objects.filter(recipient=bob).count)() == 1


async def test_typing_relays_are_throttled_per_user(amake_user, amake_room, connect):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    a = await connect(alice)
    await a.ok("room:lounge", "join")
    b = await connect(bob)
    await b.ok("room:lounge", "join")
    bursts = 12
    for _ in range(bursts):
        assert await a.ok("room:lounge", "typing", {"typing": True}) == {}
    await quiet(b)
    relayed = [f for f in b.buffer if f.get("event") == "typing"]
    assert 1 <= len(relayed) < bursts


def test_room_names_that_look_like_direct_rooms_get_their_own_slugs(make_user):
    ann = make_user("ann")
    first = services.room_create(creator=ann, name="DM notes", private=False, member_usernames=[])
    second = services.room_create(creator=ann, name="dm notes", private=True, member_usernames=[])
    assert (first.slug, second.slug) == ("room-dm-notes", "room-dm-notes-2")
    assert (first.name, second.name) == ("DM notes", "dm notes")


def test_clashing_room_names_count_up(make_user):
    ann = make_user("ann")
    slugs = [services.room_create(creator=ann, name="Team", private=False, member_usernames=[]).slug
             for _ in range(3)]
    assert slugs == ["team", "team-2", "team-3"]


def test_a_retry_that_loses_the_race_after_its_lookup_gets_the_stored_message(make_user, monkeypatch):
    """Two sends with one client_id both miss the lookup: the unique constraint keeps one row."""
    from chat.models import Room

    ann = make_user("ann")
    room = Room.objects.create(slug="race", name="Race", kind="public", created_by=ann)
    first, created = services.message_send(room=room, author=ann, body="once", client_id="c1")
    assert created
    lookup = selectors.message_by_client_id
    calls = []

    def lookup_that_misses_first(**kwargs):
        calls.append(kwargs)  # the first lookup ran before the other retry's insert
        return None if len(calls) == 1 else lookup(**kwargs)

    monkeypatch.setattr(selectors, "message_by_client_id", lookup_that_misses_first)
    again, created = services.message_send(room=room, author=ann, body="once", client_id="c1")
    assert (again.pk, created) == (first.pk, False)
    assert Message.objects.filter(client_id="c1").count() == 1


def test_the_longest_usernames_fit_a_direct_room_name_and_a_mention(make_user):
    from chat.models import Room

    ann, ben = make_user("a" * 150), make_user("b" * 150)
    dm, created = services.dm_open(user=ann, username=ben.username)
    assert created and len(dm.name) <= 100 and dm.name.startswith("a" * 47 + "… & ")
    room = services.room_create(creator=ann, name="r" * 100, private=False, member_usernames=[ben.username])
    message, _ = services.message_send(room=room, author=ann, body=f"hi @{ben.username}")
    [note] = services.mention_notify(message=message, present_user_ids=set())
    assert note.recipient == ben and note.verb == "a" * 99 + "… mentioned you in " + "r" * 100
    assert Room.objects.get(pk=dm.pk).name == dm.name


def test_usernames_typed_in_another_case_find_their_user(make_user):
    ann, bob = make_user("ann"), make_user("Bob")
    dm, created = services.dm_open(user=ann, username="BOB")
    assert created and set(dm.memberships.values_list("user__username", flat=True)) == {"ann", "Bob"}
    room = services.room_create(creator=ann, name="Team", private=True, member_usernames=["bob", "ANN"])
    assert set(room.memberships.values_list("user__username", flat=True)) == {"ann", "Bob"}


def test_mentions_find_members_as_every_username_lookup_does_ignoring_case(make_user, make_room):
    ann, ben, cat = make_user("ann"), make_user("ben"), make_user("Cat")
    room = make_room("team", members=[ann, ben, cat])
    make_user("eve")  # not a member: named, but not notified
    message, _ = services.message_send(room=room, author=ann, body="@BEN and @cat, @eve and @ann (me) look")
    notes = services.mention_notify(message=message, present_user_ids=set())
    assert sorted(note.recipient.username for note in notes) == ["Cat", "ben"]


def test_a_message_full_of_mentions_looks_up_only_the_first_twenty_among_the_members(
        make_user, make_room, django_assert_max_num_queries):
    ann = make_user("ann")
    members = [make_user(f"m{i:02}") for i in range(25)]
    room = make_room("team", members=[ann, *members])
    body = " ".join(f"@m{i:02}" for i in range(25)) + " " + " ".join(f"@x{i:03}" for i in range(900))
    message, _ = services.message_send(room=room, author=ann, body=body[:4000])
    with django_assert_max_num_queries(11):  # the lookup, the inserts, the outbox row, the unread counts: not per name
        notes = services.mention_notify(message=message, present_user_ids=set())
    assert sorted(note.recipient.username for note in notes) == [f"m{i:02}" for i in range(20)]


@pytest.mark.parametrize("name, stored", [("ｐｌａｎｓ", "plans"), ("  Café  ", "Café")])
def test_room_names_are_normalised_like_usernames(make_user, name, stored):
    assert services.room_create(creator=make_user("ann"), name=name, private=False, member_usernames=[]).name == stored


@pytest.mark.parametrize("name", ["evil\u202egnp.exe", "tab\there", "zero\u200bwidth"])
def test_room_names_refuse_invisible_and_direction_changing_characters(make_user, name):
    with pytest.raises(BadRequest, match="cannot hold that"):
        services.room_create(creator=make_user("ann"), name=name, private=False, member_usernames=[])

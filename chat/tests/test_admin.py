"""The chat admin goes through the services: what staff change there reaches open sockets like any other change."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat import services
from chat.models import Membership, Message, Room

pytestmark = pytest.mark.django_db(transaction=True)


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


async def posted_message(amake_room, author, body="original"):
    room = await amake_room("lounge")
    message, _ = await database_sync_to_async(services.message_send)(room=room, author=author, body=body)
    return room, message


async def test_editing_a_message_in_the_admin_pushes_edited(amake_user, amake_room, connect, staff):
    alice = await amake_user("alice")
    room, message = await posted_message(amake_room, alice)
    watcher = await connect(alice)
    await watcher.ok("room:lounge", "join")

    def edit(body):
        return admin_client(staff).post(f"/admin/chat/message/{message.pk}/change/", {"body": body})

    for refused in ("   ", "x" * 4001):
        assert (await database_sync_to_async(edit)(refused)).status_code == 200  # the form again, with its error
    assert (await database_sync_to_async(Message.objects.get)(pk=message.pk)).body == "original"
    response = await database_sync_to_async(edit)("  moderated  ")
    assert response.status_code == 302
    push = await watcher.expect("room:lounge", "edited")
    assert push["message"]["body"] == "moderated" and push["message"]["edited_at"]
    assert (await database_sync_to_async(Message.objects.get)(pk=message.pk)).body == "moderated"


@pytest.mark.parametrize("how", ["delete view", "bulk action"])
async def test_deleting_a_message_in_the_admin_is_the_protocols_soft_delete(amake_user, amake_room, connect, staff,
                                                                            how):
    alice = await amake_user("alice")
    room, message = await posted_message(amake_room, alice)
    watcher = await connect(alice)
    await watcher.ok("room:lounge", "join")

    def delete():
        client = admin_client(staff)
        if how == "delete view":
            return client.post(f"/admin/chat/message/{message.pk}/delete/", {"post": "yes"})
        return client.post("/admin/chat/message/", {"action": "delete_selected", "_selected_action": [message.pk],
                                                    "post": "yes"})

    assert (await database_sync_to_async(delete)()).status_code == 302
    push = await watcher.expect("room:lounge", "deleted")
    assert push["message"]["id"] == message.pk and push["message"]["deleted"] is True and push["message"]["body"] == ""
    stored = await database_sync_to_async(Message.objects.get)(pk=message.pk)  # kept: its id stays in history
    assert stored.deleted is True


def test_a_deleted_message_cannot_be_edited_back_in_the_admin(make_user, make_room, staff):
    alice = make_user("alice")
    room = make_room("lounge")
    message, _ = services.message_send(room=room, author=alice, body="gone soon")
    services.message_delete(room=room, user=alice, message_id=message.pk)
    client = admin_client(staff)
    assert client.get(f"/admin/chat/message/{message.pk}/change/").status_code == 200  # still viewable
    assert client.post(f"/admin/chat/message/{message.pk}/change/", {"body": "resurrected"}).status_code == 403
    assert Message.objects.get(pk=message.pk).body == "gone soon"
    assert client.get("/admin/chat/message/add/").status_code == 403  # messages are written by their authors


async def test_a_room_and_members_added_in_the_admin_reach_the_members_lobbies(amake_user, connect, staff):
    bob = await amake_user("bob")
    lobby = await connect(bob)
    await lobby.ok("chat", "join")

    def add_room():
        return admin_client(staff).post("/admin/chat/room/add/", {
            "name": "  Ops  ", "kind": "private",
            "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-user": str(bob.pk),
        })

    response = await database_sync_to_async(add_room)()
    assert response.status_code == 302, response.content.decode()[:3000]
    push = await lobby.expect("chat", "room")
    assert push["room"]["slug"] == "ops" and push["room"]["kind"] == "private" and push["room"]["name"] == "Ops"
    members = await database_sync_to_async(lambda: sorted(Membership.objects.values_list("user__username", flat=True)))()
    assert members == ["bob"]  # staff made it for others: not a member, not its creator
    assert (await database_sync_to_async(Room.objects.get)(slug="ops")).created_by is None


async def test_a_membership_added_in_the_admin_reaches_the_new_member(amake_user, amake_room, connect, staff):
    bob = await amake_user("bob")
    room = await amake_room("plans", kind="private")
    dm, _ = await database_sync_to_async(services.dm_open)(user=staff, username="bob")
    lobby = await connect(bob)
    await lobby.ok("chat", "join")

    def add(room_id):
        return admin_client(staff).post("/admin/chat/membership/add/", {"room": str(room_id), "user": str(bob.pk)})

    response = await database_sync_to_async(add)(dm.pk)
    assert response.status_code == 200 and "exactly its two people" in response.content.decode()
    assert (await database_sync_to_async(add)(room.pk)).status_code == 302
    assert (await lobby.expect("chat", "room"))["room"]["slug"] == "plans"
    assert await database_sync_to_async(Membership.objects.filter(room=room, user=bob).exists)()


def test_room_names_are_checked_by_the_service_in_the_admin(staff):
    response = admin_client(staff).post("/admin/chat/room/add/", {
        "name": "x" * 101, "kind": "public", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "100 characters" in response.content.decode()
    assert not Room.objects.exists()


def test_staff_without_the_add_membership_right_cannot_add_members_through_the_room_page(make_user, make_room):
    """Changing a room is not joining it: the inline needs chat.add_membership like the membership page."""
    from django.contrib.auth.models import Permission

    mod, owner = make_user("mod", is_staff=True), make_user("owner")
    mod.user_permissions.add(*Permission.objects.filter(codename__in=["change_room", "view_room"]))
    room = make_room("secret", kind="private", members=[owner])
    membership = Membership.objects.get(room=room)
    response = admin_client(mod).post(f"/admin/chat/room/{room.pk}/change/", {
        "name": "Secret", "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(membership.pk), "memberships-0-room": str(room.pk),
        "memberships-1-user": str(mod.pk), "memberships-1-room": str(room.pk),
    })
    assert response.status_code in (200, 302, 403)
    assert sorted(Membership.objects.values_list("user__username", flat=True)) == ["owner"]

"""Deleting a user (ORM or admin): Redis keeps nothing of them, their sockets close 4401, others see them leave."""

import re

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from hub import protocol, retention
from hub.redis import get_sync_redis, key
from presence import services as presence_services

pytestmark = pytest.mark.django_db(transaction=True)


def redis_traces(user_id, conn_ids):
    """Everything under the prefix that belongs to the user: keys named for them or their sockets,
    hash fields and values that are their id, set members that are their sockets."""
    redis, uid, conns = get_sync_redis(), str(user_id), set(conn_ids)
    p = re.escape(settings.HUB_REDIS_PREFIX)
    named = re.compile(rf"{p}:(sockets:{uid}|rate:[^:]+:{uid}|\{{p\}}:s:.+:u:{uid}|typing:\d+:{uid}:\d+)")
    found = []
    for raw in redis.scan_iter(match=f"{settings.HUB_REDIS_PREFIX}*"):
        name = raw.decode()
        if name == key("{p}", "gone", user_id):
            continue  # the tombstone that refuses them for an hour (docs/architecture.md)
        if named.fullmatch(name) or any(conn in name for conn in conns):
            found.append(name)
        kind = redis.type(raw).decode()
        if kind == "hash":
            found += [f"{name}[{f.decode()}]" for f, v in redis.hgetall(raw).items()
                      if f.decode() in (uid, *conns) or v.decode() == uid]
        elif kind == "zset":
            found += [f"{name}[{m.decode()}]" for m in redis.zrange(raw, 0, -1) if m.decode() in conns]
        elif kind == "set":
            found += [f"{name}[{m.decode()}]" for m in redis.smembers(raw) if m.decode() in conns]
    # Sorted: SCAN's order changes when Redis rehashes its keyspace (other keys come and go meanwhile,
    # such as the per-second locks of hub.periodic).
    return sorted(found)


async def busy_user(amake_user, amake_room, connect):
    """bob, seen before (last seen), online in the lounge with a room, a message and a typing slot; alice watching."""
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room("lounge")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    await watcher.ok("room:lounge", "join")
    earlier = await connect(bob)
    await earlier.ok("hub", "heartbeat")
    await earlier.disconnect()  # a site leave: bob's last seen is written
    await watcher.expect("presence", "diff", where=lambda d: [u["username"] for u in d["leaves"]] == ["bob"])
    comm = await connect(bob)
    await comm.ok("room:lounge", "join")
    await comm.ok("room:lounge", "send", {"body": "hello", "client_id": "c1"})
    await comm.ok("chat", "join")
    await comm.ok("chat", "create", {"name": "Bob's", "private": False, "members": []})
    await comm.ok("room:lounge", "typing", {"typing": True})
    await watcher.expect("presence", "diff", where=lambda d: "bob" in [u["username"] for u in d["joins"]])
    conns = [earlier.hello["payload"]["conn"], comm.hello["payload"]["conn"]]
    traces = redis_traces(bob.pk, conns)
    for expected in (key("sockets", bob.pk), key("rate", "chat-send", bob.pk), key("rate", "chat-open", bob.pk),
                     key("{p}", "s", "room:lounge", "u", bob.pk), f"{key('{p}', 'user')}[{bob.pk}]",
                     f"{key('{p}', 'lastseen')}[{bob.pk}]", f"{key('{p}', 's', 'presence', 'status')}[{bob.pk}]"):
        assert expected in traces, (expected, traces)
    assert any(name.startswith(key("typing")) for name in traces), traces
    return alice, bob, watcher, comm, conns


def left(username):
    return lambda diff: [u["username"] for u in diff["leaves"]] == [username]


async def test_deleting_a_user_forgets_them_in_redis_closes_their_socket_and_they_leave(amake_user, amake_room,
                                                                                       connect):
    alice, bob, watcher, comm, conns = await busy_user(amake_user, amake_room, connect)
    bob_id = bob.pk
    await database_sync_to_async(bob.delete)()
    assert await comm.expect_close() == protocol.CLOSE_SESSION_ENDED
    assert redis_traces(bob_id, conns) == []
    diff = await watcher.expect("presence", "diff", where=left("bob"))
    assert diff["leaves"][0]["status"] == "offline"
    await watcher.expect("room:lounge", "presence", where=left("bob"))
    await comm.disconnect()  # the socket's own cleanup finds nothing to leave or to write again
    assert await watcher.nothing(0.4, topic="presence"), watcher.buffer
    assert redis_traces(bob_id, conns) == []
    assert [u["username"] for u in (await watcher.ok("presence", "join"))["users"]] == ["alice"]


async def test_a_user_deleted_in_the_admin_is_forgotten_the_same_way(amake_user, amake_room, connect, make_user):
    alice, bob, watcher, comm, conns = await busy_user(amake_user, amake_room, connect)
    bob_id = bob.pk
    root = await database_sync_to_async(make_user)("root", is_staff=True, is_superuser=True)

    def delete_in_admin():
        client = Client()
        client.force_login(root)
        return client.post(f"/admin/auth/user/{bob_id}/delete/", {"post": "yes"})

    assert (await database_sync_to_async(delete_in_admin)()).status_code == 302
    assert not await database_sync_to_async(get_user_model().objects.filter(pk=bob_id).exists)()
    assert await comm.expect_close() == protocol.CLOSE_SESSION_ENDED
    await watcher.expect("presence", "diff", where=left("bob"))
    await comm.disconnect()
    assert redis_traces(bob_id, conns) == []


async def test_a_rolled_back_deletion_forgets_nothing(amake_user, amake_room, connect):
    alice, bob, watcher, comm, conns = await busy_user(amake_user, amake_room, connect)
    bob_id, before = bob.pk, redis_traces(bob.pk, conns)
    comm.buffer.clear()
    watcher.buffer.clear()

    def delete_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            bob.delete()
            raise RuntimeError("the caller failed after the delete")

    await database_sync_to_async(delete_then_fail)()
    assert await watcher.nothing(0.4, topic="presence"), watcher.buffer  # no leave
    assert [name for name in redis_traces(bob_id, conns) if "typing" not in name] == [
        name for name in before if "typing" not in name]  # (typing slots expire by themselves)
    await comm.ok("hub", "heartbeat")  # not closed
    await database_sync_to_async(get_user_model().objects.filter(pk=bob_id).delete)()  # the same, committed
    assert await comm.expect_close() == protocol.CLOSE_SESSION_ENDED
    await watcher.expect("presence", "diff", where=left("bob"))
    assert redis_traces(bob_id, conns) == []


async def test_a_user_who_left_just_before_being_deleted_still_leaves(amake_user, connect):
    """Their leave waits in the coalescing window while the deletion takes their USER record out of Redis."""
    alice, bob = await amake_user("alice"), await amake_user("bob")
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    comm = await connect(bob)
    conns, bob_id = [comm.hello["payload"]["conn"]], bob.pk
    await watcher.expect("presence", "diff", where=lambda d: "bob" in [u["username"] for u in d["joins"]])
    await comm.disconnect()  # the leave is buffered for up to 250 ms ...
    await database_sync_to_async(bob.delete)()  # ... and bob is gone from Redis before it is sent
    await watcher.expect("presence", "diff", where=left("bob"))
    assert redis_traces(bob_id, conns) == []  # his last seen, written at that leave, included


async def test_a_socket_still_open_cannot_bring_a_deleted_user_back(amake_user, amake_room, connect):
    """Between the deletion and the close reaching it, a socket may still join a room or heartbeat."""
    bob = await amake_user("bob")
    await amake_room("lounge")
    comm = await connect(bob)
    conns = [comm.hello["payload"]["conn"]]
    await comm.ok("hub", "heartbeat")
    await database_sync_to_async(presence_services.user_forget)(user_id=bob.pk)  # the close push not sent (yet)
    await comm.ok("room:lounge", "join")
    await comm.request("hub", "heartbeat", {"status": "away"})
    assert [t for t in redis_traces(bob.pk, conns) if "presence" in t or ":p:" in t] == []


async def test_one_app_failing_to_forget_stops_neither_the_others_nor_the_close(amake_user, connect, monkeypatch):
    def broken(*, user_id):
        raise ConnectionError("this app's store is down")

    monkeypatch.setitem(retention._forgetters, "broken", broken)
    monkeypatch.setattr(retention, "_forgetters", {"broken": broken, **retention._forgetters})  # first in line
    bob = await amake_user("bob")
    comm = await connect(bob)
    conns, bob_id = [comm.hello["payload"]["conn"]], bob.pk
    await comm.ok("hub", "heartbeat")
    await database_sync_to_async(bob.delete)()
    assert await comm.expect_close() == protocol.CLOSE_SESSION_ENDED
    assert redis_traces(bob_id, conns) == []

"""Fan-out guarantees any delivery path must keep (issue 12 §2), over a real daphne and real sockets:
per-topic order on every socket, and a socket that does not read never holds up the others."""

import asyncio
import json

import pytest

from hub.testing.servers import DaphneServer
from tests.test_attacks import PASSWORD, fill_room, socket_of, stalled_socket_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SENDS = 40


async def frames_until(ws, done, timeout_s=30):
    """Every frame `ws` receives until `done(frames)`."""
    frames = []
    async with asyncio.timeout(timeout_s):
        while not done(frames):
            frames.append(json.loads(await ws.recv()))
    return frames


def pushes(frames):
    return [f["payload"]["message"] for f in frames if f.get("event") == "message"]


async def test_replies_and_pushes_of_a_topic_keep_their_order_on_every_socket(amake_user, amake_room):
    for name in ("ann", "bob"):
        await amake_user(name, password=PASSWORD)
    await amake_room("lounge")
    with DaphneServer(HUB_CHAT_RATE=f"{SENDS * 2}/10s") as server:
        ann = await socket_of(server, "ann", "room:lounge")
        bob = await socket_of(server, "bob", "room:lounge")
        for i in range(SENDS):  # all at once: replies and pushes interleave on the wire
            await ann.send(json.dumps({"topic": "room:lounge", "event": "send", "ref": f"s{i}",
                                       "payload": {"body": f"m{i}", "client_id": f"c{i}"}}))
        ann_frames = await frames_until(ann, lambda fs: len(pushes(fs)) == SENDS)
        bob_frames = await frames_until(bob, lambda fs: len(pushes(fs)) == SENDS)
        for frames in (ann_frames, bob_frames):
            assert [m["body"] for m in pushes(frames)] == [f"m{i}" for i in range(SENDS)]
            seqs = [m["seq"] for m in pushes(frames)]
            assert seqs == sorted(seqs) and len(set(seqs)) == SENDS
        # The sender's reply to each send comes before the push of the same message.
        position = {}
        for n, frame in enumerate(ann_frames):
            if frame.get("event") == "reply":
                position[("reply", frame["ref"])] = n
            elif frame.get("event") == "message":
                position[("push", frame["payload"]["message"]["client_id"])] = n
        assert all(position[("reply", f"s{i}")] < position[("push", f"c{i}")] for i in range(SENDS))
        await ann.close()
        await bob.close()


async def test_a_socket_that_does_not_read_does_not_hold_up_the_others(amake_user, amake_room):
    await fill_room(amake_user, amake_room)  # alice, bob, carol; 100 messages of 4,000 characters
    for name in ("dan", "eve"):
        await amake_user(name, password=PASSWORD)
    with DaphneServer(HUB_CHAT_RATE=f"{SENDS * 2}/10s") as server:
        stalled = await stalled_socket_of(server, "alice", "room:lounge")
        for i in range(10):  # ~4 MB of history replies the stalled client will never read
            await stalled.send(json.dumps({"topic": "room:lounge", "event": "history", "payload": {"limit": 100},
                                           "ref": f"h{i}"}))
        readers = [await socket_of(server, name, "room:lounge") for name in ("carol", "dan", "eve")]
        bob = await socket_of(server, "bob", "room:lounge")
        for i in range(SENDS):
            await bob.send(json.dumps({"topic": "room:lounge", "event": "send", "payload": {"body": f"live {i}"}}))
        for ws in readers:
            frames = await frames_until(ws, lambda fs: len(pushes(fs)) == SENDS)
            assert [m["body"] for m in pushes(frames)] == [f"live {i}" for i in range(SENDS)]
        for ws in [*readers, bob, stalled]:
            await ws.close()


async def test_filters_still_run_per_socket_and_a_topic_left_gets_nothing_more(amake_user, amake_room):
    """Messages take the short path (hub.fanout); typing still goes through RoomTopic.on_push; leaving ends pushes."""
    for name in ("ann", "bob", "cid"):
        await amake_user(name, password=PASSWORD)
    await amake_room("lounge")
    with DaphneServer() as server:
        ann = await socket_of(server, "ann", "room:lounge")
        ann_other_tab = await socket_of(server, "ann", "room:lounge")
        bob = await socket_of(server, "bob", "room:lounge")
        cid = await socket_of(server, "cid", "room:lounge")
        await ann.send(json.dumps({"topic": "room:lounge", "event": "typing", "payload": {"typing": True}}))
        await ann.send(json.dumps({"topic": "room:lounge", "event": "send", "payload": {"body": "after typing"}}))
        bob_frames = await frames_until(bob, lambda fs: len(pushes(fs)) == 1)
        other_tab_frames = await frames_until(ann_other_tab, lambda fs: len(pushes(fs)) == 1)
        assert [f["payload"]["user"]["username"] for f in bob_frames if f.get("event") == "typing"] == ["ann"]
        assert not [f for f in other_tab_frames if f.get("event") == "typing"]  # not echoed to ann's other tab
        await cid.send(json.dumps({"topic": "room:lounge", "event": "leave", "ref": "l"}))
        await frames_until(cid, lambda fs: any(f.get("ref") == "l" for f in fs))
        await bob.send(json.dumps({"topic": "room:lounge", "event": "send", "payload": {"body": "after the leave"}}))
        await frames_until(ann, lambda fs: any(m["body"] == "after the leave" for m in pushes(fs)))
        with pytest.raises(TimeoutError):  # nothing of the room reaches a socket that left it
            await frames_until(cid, lambda fs: any(f.get("topic") == "room:lounge" for f in fs), timeout_s=1)
        for ws in (ann, ann_other_tab, bob, cid):
            await ws.close()

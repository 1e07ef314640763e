"""Two real daphne processes share Redis and the database; one is killed with SIGKILL."""

import asyncio
import time

import pytest

from hub.testing.faults import kill_server
from hub.testing.servers import Browserless, DaphneServer, ws_connect, ws_expect, ws_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-Horse-battery-9"
TTL = 6
HEARTBEAT = 3  # the TTL must be at least twice the heartbeat


async def test_arrival_across_processes_and_leave_after_sigkill(amake_user):
    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    with DaphneServer(HUB_PRESENCE_TTL=TTL, HUB_HEARTBEAT=HEARTBEAT) as server_a:
        server_b = DaphneServer(HUB_PRESENCE_TTL=TTL, HUB_HEARTBEAT=HEARTBEAT).start()
        try:
            alice = await asyncio.to_thread(Browserless(server_a.url).login, "alice", PASSWORD)
            bob = await asyncio.to_thread(Browserless(server_b.url).login, "bob", PASSWORD)
            ws_a, _ = await ws_connect(server_a, alice)
            buffer = []
            reply = await ws_request(ws_a, "presence", "join", buffer=buffer)
            assert [u["username"] for u in reply["data"]["users"]] == ["alice"]
            ws_b, _ = await ws_connect(server_b, bob)
            diff = await ws_expect(ws_a, "presence", "diff", buffer=buffer,
                                   where=lambda p: any(u["username"] == "bob" for u in p["joins"]))
            assert diff["joins"][0]["status"] == "online"
            kill_server(server_b)  # SIGKILL: no close frame, no cleanup
            killed_at = time.monotonic()
            # Keep alice's own socket alive with heartbeats while waiting for the sweep.
            async def heartbeat():
                while True:
                    await asyncio.sleep(2)
                    await ws_a.send('{"topic": "hub", "event": "heartbeat"}')

            beat = asyncio.create_task(heartbeat())
            try:
                diff = await ws_expect(ws_a, "presence", "diff", timeout=TTL + 5, buffer=buffer,
                                       where=lambda p: any(u["username"] == "bob" for u in p["leaves"]))
            finally:
                beat.cancel()
            assert time.monotonic() - killed_at <= TTL + 5
            assert diff["leaves"][0]["status"] == "offline"
            await ws_a.close()
        finally:
            server_b.stop()


async def test_a_server_stopped_cleanly_sends_the_leaves_of_its_users(amake_user):
    """A deploy stops a process with SIGTERM: its users' leaves reach the other servers at once."""
    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    with DaphneServer() as server_a:
        server_b = DaphneServer().start()
        try:
            alice = await asyncio.to_thread(Browserless(server_a.url).login, "alice", PASSWORD)
            bob = await asyncio.to_thread(Browserless(server_b.url).login, "bob", PASSWORD)
            ws_a, _ = await ws_connect(server_a, alice)
            buffer = []
            await ws_request(ws_a, "presence", "join", buffer=buffer)
            ws_b, _ = await ws_connect(server_b, bob)
            await ws_expect(ws_a, "presence", "diff", buffer=buffer,
                            where=lambda p: any(u["username"] == "bob" for u in p["joins"]))
            await asyncio.to_thread(server_b.stop)  # SIGTERM; returns once the process has exited
            # Within the 2 s of a clean close, and no sweep can help: Redis has forgotten bob.
            diff = await ws_expect(ws_a, "presence", "diff", timeout=2, buffer=buffer,
                                   where=lambda p: any(u["username"] == "bob" for u in p["leaves"]))
            assert diff["leaves"][0]["last_seen"]
            await ws_a.close()
        finally:
            server_b.stop()


async def test_a_join_reply_larger_than_the_client_frame_limit_arrives(amake_user):
    from presence import store
    from hub.testing.communicator import close_async_clients

    await amake_user("alice", password=PASSWORD)
    for i in range(800):  # about 80 KB of PRESENCE entries
        user = {"id": 10_000 + i, "username": f"ghost{i:04d}", "display_name": f"Ghost {i}"}
        await store.track("presence", f"ghost-conn-{i}", user=user, status="online", ttl_s=600)
    await close_async_clients()
    with DaphneServer(HUB_PRESENCE_LIST_MAX=1000) as server:  # everyone listed, not a first page
        alice = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
        ws, _ = await ws_connect(server, alice)
        reply = await ws_request(ws, "presence", "join")
        assert reply["ok"] and len(reply["data"]["users"]) == 801 and reply["data"]["more"] is False
        await ws.close()


async def test_a_server_sweeps_dead_connections_from_its_start_without_any_socket_of_its_own():
    from presence import services, store

    # A connection whose server died: nobody refreshes it, and it expires in a second.
    await store.track(services.SITE_SET, "dead-conn", user={"id": 99, "username": "ghost", "display_name": "ghost"},
                      status="online", ttl_s=1)
    assert [u["username"] for u in await store.list_set(services.SITE_SET)] == ["ghost"]
    with DaphneServer(HUB_PRESENCE_TTL=TTL, HUB_HEARTBEAT=HEARTBEAT):
        # Nothing can be awaited: poll the store until the new process's sweeper has run.
        async with asyncio.timeout(10):
            while await store.list_set(services.SITE_SET):
                await asyncio.sleep(0.1)


async def test_a_rolling_restart_drains_sockets_over_the_window_and_nobody_flaps(amake_user):
    """SIGTERM to one of two servers: its sockets close 1001 spread over HUB_DRAIN_SECONDS; users back on
    the other server within HUB_PRESENCE_GRACE show no leave and no join; one who stays away leaves after it."""
    import websockets

    for name in ("alice", "bob", "carol", "dave"):
        await amake_user(name, password=PASSWORD)
    env = {"HUB_DRAIN_SECONDS": 2, "HUB_PRESENCE_GRACE": 4}
    with DaphneServer(**env) as stays, DaphneServer(**env) as restarting:
        watcher, _ = await ws_connect(stays, await asyncio.to_thread(Browserless(stays.url).login, "dave", PASSWORD))
        buffer = []
        await ws_request(watcher, "presence", "join", buffer=buffer)
        movers = {}
        for name in ("alice", "bob", "carol"):
            ws, _ = await ws_connect(restarting, await asyncio.to_thread(Browserless(restarting.url).login, name,
                                                                         PASSWORD))
            movers[name] = ws
            await ws_expect(watcher, "presence", "diff", buffer=buffer,
                            where=lambda p, name=name: name in [u["username"] for u in p["joins"]])
        back_logins = {name: await asyncio.to_thread(Browserless(stays.url).login, name, PASSWORD)
                       for name in ("alice", "bob")}
        closed_at, back = {}, []

        async def follow(name):
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    await movers[name].recv()
            closed_at[name] = time.monotonic()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
            if name in back_logins:  # carol does not come back
                ws, _ = await ws_connect(stays, back_logins[name])
                back.append(ws)

        stopping = asyncio.ensure_future(asyncio.to_thread(restarting.stop))
        async with asyncio.timeout(10):
            await asyncio.gather(*(follow(name) for name in movers))
        await stopping
        times = sorted(closed_at.values())
        assert times[-1] - times[0] >= 1.0  # spread over the 2 s drain, not all at once
        # Within the grace (and a sweep after it) carol leaves; alice and bob never flapped.
        leave = await ws_expect(watcher, "presence", "diff", timeout=4 + 2 + 5, buffer=buffer,
                                where=lambda p: "carol" in [u["username"] for u in p["leaves"]])
        assert [u["username"] for u in leave["leaves"]] == ["carol"]
        assert time.monotonic() - min(closed_at.values()) >= 3.5  # not before the grace ran out
        seen = [frame["payload"] for frame in buffer if frame.get("event") == "diff"]
        flapped = [u["username"] for diff in seen + [leave] for key in ("joins", "leaves") for u in diff[key]
                   if u["username"] in ("alice", "bob")]
        assert flapped == [], seen
        for ws in (watcher, *back):
            await ws.close()

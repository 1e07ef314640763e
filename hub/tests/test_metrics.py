"""/metrics (issue 13 §3): off by default, only for allowed callers, and numbers that match what clients did and
saw, summed over every daphne process of the machine, a killed one's sockets dropped."""

import asyncio
import collections
import itertools
import json
import urllib.error
import urllib.request

import pytest
import websockets
from django.test import RequestFactory, override_settings

from hub import metrics
from hub.testing.servers import Browserless, DaphneServer, ws_connect

PASSWORD = "correct-Horse-battery-9"
TOKEN = "metrics-token-0123456789abcdef"


class Recorded:
    """A real socket whose every frame is kept (`frames`), with requests answered by their replies."""

    refs = itertools.count(1)

    def __init__(self, ws, hello_frames=1):
        self.ws, self.frames, self.waiting = ws, [], {}
        self.hello_frames = hello_frames  # ws_connect read `hello` already
        self.task = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for text in self.ws:
                frame = json.loads(text)
                self.frames.append(frame)
                future = self.waiting.pop(frame.get("ref"), None) if frame.get("event") == "reply" else None
                if future is not None:
                    future.set_result(frame["payload"])
        except websockets.ConnectionClosed:
            pass

    async def send_raw(self, text, ref):
        self.waiting[ref] = asyncio.get_running_loop().create_future()
        await self.ws.send(text)
        async with asyncio.timeout(10):
            return await self.waiting[ref]

    async def request(self, topic, event, payload=None):
        ref = f"r{next(self.refs)}"
        return await self.send_raw(json.dumps({"topic": topic, "event": event, "payload": payload or {}, "ref": ref}),
                                   ref)


def scrape(server, token=TOKEN):
    request = urllib.request.Request(f"{server.url}/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        return parse(response.read().decode())


def parse(text):
    """{(sample name, ((label, value), ...)): value} of a Prometheus text page."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def status_of(server, token=None):
    try:
        scrape(server, token)
        return 200
    except urllib.error.HTTPError as error:
        return error.code


def labelled(samples, name):
    """{the label values, in the order of the labels' names: value} of one sample name."""
    return {tuple(value for _, value in labels): value for (sample, labels), value in samples.items() if sample == name}


def frames_seen(sockets, unknown_topics):
    """What the clients received, counted as the server labels it: (event, topic pattern's name), labels by name."""
    seen = collections.Counter()
    for socket in sockets:
        seen[("hello", "hub")] += socket.hello_frames
        for frame in socket.frames:
            topic = "unknown" if frame["topic"] in unknown_topics else frame["topic"].split(":", 1)[0]
            seen[(frame["event"], topic)] += 1
    return seen


async def until(check, timeout=15):
    """Await `check()` (a sync function, run in a thread) until it returns true; the last value otherwise fails."""
    async with asyncio.timeout(timeout):
        while not (result := await asyncio.to_thread(check)):
            await asyncio.sleep(0.1)  # the other processes flush once a second: nothing to await
    return result


def test_metrics_answer_404_unless_turned_on(client):
    assert client.get("/metrics").status_code == 404


@override_settings(HUB_METRICS_ALLOW=["127.0.0.1", "::1"], HUB_METRICS_TOKEN="")
def test_by_default_only_loopback_may_scrape():
    factory = RequestFactory()
    assert metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="127.0.0.1"))
    assert metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="::1"))
    assert not metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="10.1.2.3"))
    assert not metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="not an address"))
    assert not metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer "))


@override_settings(HUB_METRICS_ALLOW=["10.0.0.0/8"], HUB_METRICS_TOKEN=TOKEN)
def test_an_allowed_network_or_the_token_may_scrape():
    factory = RequestFactory()
    assert metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="10.200.0.9"))
    assert not metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="127.0.0.1"))
    assert metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    assert not metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x"))
    assert not metrics.may_scrape(factory.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_AUTHORIZATION=TOKEN))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_a_scrape_counts_what_the_clients_did_and_saw(amake_user, amake_room, tmp_path):
    await amake_user("alice", password=PASSWORD)
    await amake_user("bob", password=PASSWORD)
    await amake_room("lounge")
    env = {"HUB_METRICS": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "HUB_METRICS_ALLOW": "10.0.0.0/8",
           "HUB_METRICS_TOKEN": TOKEN}
    with DaphneServer(**env) as server:
        assert status_of(server) == 403  # loopback is not in HUB_METRICS_ALLOW here, and no token
        assert status_of(server, token=TOKEN + "x") == 403
        alice = await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
        bob = await asyncio.to_thread(Browserless(server.url).login, "bob", PASSWORD)
        sockets = [Recorded((await ws_connect(server, who))[0]) for who in (alice, alice, bob)]
        sent = 0
        for socket in sockets:
            assert (await socket.request("room:lounge", "join"))["ok"]
            assert (await socket.request("presence", "join"))["ok"]
            sent += 2
        for body in ("one", "two", "three"):
            assert (await sockets[0].request("room:lounge", "send", {"body": body}))["ok"]
            sent += 1
        assert (await sockets[1].send_raw("{not json", ref=None))["error"]["code"] == "bad_request"
        assert (await sockets[2].request("nope:x", "join"))["error"]["code"] == "unknown_topic"
        sent += 2
        with pytest.raises(websockets.InvalidStatus):  # another site's page
            await websockets.connect(server.ws_url, additional_headers={**alice.ws_headers(), "Origin": "http://evil.test"})
        with pytest.raises(websockets.InvalidStatus):  # no session
            await websockets.connect(server.ws_url, additional_headers={"Origin": server.url})
        await sockets[2].ws.close(1000)
        await sockets[2].task

        def settled():
            samples = scrape(server)
            out = {key: value for key, value in labelled(samples, "hub_frames_out_total").items() if value}
            bob_gone = samples.get(("hub_presence_online_users", ())) == 1  # his socket closed: alice is left
            return samples if bob_gone and out == dict(frames_seen(sockets, {"nope:x"})) else None

        samples = await until(settled)
        value = lambda name, **labels: samples.get((name, tuple(sorted(labels.items()))))  # noqa: E731
        assert value("hub_open_sockets") == 2
        assert value("hub_frames_in_total") == sent
        assert labelled(samples, "hub_errors_total") == {("bad_request",): 1, ("unknown_topic",): 1}
        assert labelled(samples, "hub_handshakes_refused_total") == {("origin",): 1, ("unauthenticated",): 1}
        assert labelled(samples, "hub_closes_total") == {("1000",): 1}
        assert value("hub_pushes_published_total") >= 3  # the three messages, and presence's diffs
        assert value("hub_push_latency_seconds_count") >= 3  # each message was written in a transaction
        assert value("hub_outbox_backlog") >= 0
        assert value("hub_slow_consumer_closes_total") == 0
        await asyncio.to_thread(alice.logout)  # the server closes both of her sockets: 4401
        for socket in sockets[:2]:
            await socket.task
            assert socket.ws.close_code == 4401
        samples = await until(lambda: (s := scrape(server))[("hub_open_sockets", ())] == 0 and s)
        assert labelled(samples, "hub_closes_total") == {("1000",): 1, ("4401",): 2}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_every_process_is_counted_once_and_a_killed_one_drops_out(amake_user, tmp_path):
    await amake_user("alice", password=PASSWORD)
    env = {"HUB_METRICS": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    with DaphneServer(**env) as first, DaphneServer(**env) as second:
        alice_first = await asyncio.to_thread(Browserless(first.url).login, "alice", PASSWORD)
        alice_second = await asyncio.to_thread(Browserless(second.url).login, "alice", PASSWORD)
        on_first = [Recorded((await ws_connect(first, alice_first))[0]) for _ in range(2)]
        on_second = [Recorded((await ws_connect(second, alice_second))[0]) for _ in range(3)]
        for socket in on_first + on_second:
            assert (await socket.request("presence", "join"))["ok"]

        def counts(server):
            samples = scrape(server, token=None)  # loopback may, by default
            return samples[("hub_open_sockets", ())], samples[("hub_frames_in_total", ())]

        # Either process answers for both: 5 sockets, 5 frames in (the other's counts a second late at most).
        await until(lambda: counts(first) == (5, 5) and counts(second) == (5, 5))
        second.kill()
        await until(lambda: counts(first) == (2, 5))  # its sockets are gone; what it counted stays counted
        for socket in on_first:
            await socket.ws.close()
        for socket in on_second:
            socket.task.cancel()

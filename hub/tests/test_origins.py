"""The handshake's Origin rule: scheme, host and port of the page's own origin, or HUB_ALLOWED_ORIGINS."""

import asyncio

import pytest
import websockets
from channels.testing import WebsocketCommunicator

from hub.origins import OriginValidator, parse_origin
from hub.testing.servers import Browserless, DaphneServer, ws_connect

PASSWORD = "correct-Horse-battery-9"


@pytest.mark.parametrize("value, parsed", [
    ("http://localhost", ("http", "localhost", 80)),
    ("https://Hub.Example.com", ("https", "hub.example.com", 443)),
    ("http://127.0.0.1:8000", ("http", "127.0.0.1", 8000)),
    ("https://[::1]:8443", ("https", "::1", 8443)),
    ("https://hub.example.com:443", ("https", "hub.example.com", 443)),
])
def test_an_origin_is_scheme_host_and_port_with_default_ports_filled_in(value, parsed):
    assert parse_origin(value) == parsed


@pytest.mark.parametrize("value", ["null", "", "localhost", "//localhost", "ws://localhost", "file:///etc",
                                   "http://localhost/", "http://localhost/x", "http://localhost?", "http://u@localhost",
                                   "http://localhost:99999", "http://localhost:x", "http://"])
def test_anything_but_a_serialized_http_origin_is_not_one(value):
    assert parse_origin(value) is None


def accepting_app():
    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
    return OriginValidator(app)


async def handshake(headers, **scope):
    """True when the validator lets a handshake with these headers (and scope keys) through."""
    comm = WebsocketCommunicator(accepting_app(), "/ws/", headers=[(k.encode(), v.encode()) for k, v in headers])
    comm.scope.update(scope)
    connected, _ = await comm.connect(timeout=2)
    await comm.disconnect()
    return connected


@pytest.mark.parametrize("host, origin, allowed", [
    ("localhost:8000", "http://localhost:8000", True),
    ("localhost:8000", "http://localhost:6666", False),  # another port is another site
    ("localhost:8000", "https://localhost:8000", False),  # and so is another scheme
    ("localhost:8000", "http://127.0.0.1:8000", False),  # another host, even if allowed
    ("localhost", "http://localhost:80", True),
    ("LOCALHOST:8000", "http://localhost:8000", True),
    ("evil.example:8000", "http://evil.example:8000", False),  # Host not in ALLOWED_HOSTS
    ("localhost:8000", "null", False),
    ("localhost:8000", "http://localhost:8000/", False),
])
async def test_only_the_page_own_origin_passes(settings, host, origin, allowed):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    assert await handshake([("host", host), ("origin", origin)]) is allowed


async def test_a_missing_or_repeated_origin_or_host_is_refused(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    assert not await handshake([("host", "localhost")])
    assert not await handshake([("origin", "http://localhost")])
    assert not await handshake([("host", "localhost"), ("origin", "http://localhost"), ("origin", "http://localhost")])


async def test_listed_origins_pass_on_top_of_the_own_one(settings):
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    settings.HUB_ALLOWED_ORIGINS = ["https://app.example.com", "http://localhost:3000"]
    host = ("host", "hub.example.com")
    assert await handshake([host, ("origin", "https://app.example.com")])
    assert await handshake([host, ("origin", "http://localhost:3000")])
    assert not await handshake([host, ("origin", "http://localhost:3001")])
    assert not await handshake([host, ("origin", "http://app.example.com")])
    assert await handshake([host, ("origin", "http://hub.example.com")])


async def test_the_scheme_comes_from_the_scope_or_the_trusted_proxy_header(settings):
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    host = ("host", "hub.example.com")
    assert await handshake([host, ("origin", "https://hub.example.com")], scheme="wss")
    assert not await handshake([host, ("origin", "http://hub.example.com")], scheme="wss")
    # Without SECURE_PROXY_SSL_HEADER a client's X-Forwarded-Proto means nothing.
    assert not await handshake([host, ("origin", "https://hub.example.com"), ("x-forwarded-proto", "https")])
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert await handshake([host, ("origin", "https://hub.example.com"), ("x-forwarded-proto", "https")])
    assert not await handshake([host, ("origin", "http://hub.example.com"), ("x-forwarded-proto", "https")])
    assert await handshake([host, ("origin", "http://hub.example.com"), ("x-forwarded-proto", "http")])


# --- against real daphne processes, with a logged-in user's cookie


async def status_of(server, headers):
    """The HTTP status a handshake gets: 101 when the socket opens."""
    try:
        ws = await websockets.connect(server.ws_url, additional_headers=headers, open_timeout=10)
    except websockets.exceptions.InvalidStatus as refused:
        return refused.response.status_code
    await ws.close()
    return 101


@pytest.fixture
def logged_in(amake_user):
    async def _login(server):
        await amake_user("alice", password=PASSWORD)
        return await asyncio.to_thread(Browserless(server.url).login, "alice", PASSWORD)
    return _login


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_a_page_on_another_port_of_the_same_host_is_refused_403(logged_in):
    with DaphneServer() as server:
        client = await logged_in(server)
        cookie = client.ws_headers()["Cookie"]
        port = server.port
        assert await status_of(server, {"Origin": server.url, "Cookie": cookie}) == 101
        for origin in ("http://127.0.0.1:6666", f"https://127.0.0.1:{port}", f"http://localhost:{port}",
                       "http://localhost:6666", "http://127.0.0.1"):
            assert await status_of(server, {"Origin": origin, "Cookie": cookie}) == 403, origin


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_behind_a_tls_proxy_the_https_page_and_listed_origins_pass(logged_in):
    """daphne --proxy-headers, as in the README's production command; the proxy says X-Forwarded-Proto."""
    with DaphneServer(args=["--proxy-headers"], DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto=https",
                      HUB_ALLOWED_ORIGINS="http://localhost:6666") as server:
        client = await logged_in(server)
        cookie = client.ws_headers()["Cookie"]
        https_page = f"https://127.0.0.1:{server.port}"
        proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "Cookie": cookie}
        assert await status_of(server, {**proxied, "Origin": https_page}) == 101
        assert await status_of(server, {**proxied, "Origin": server.url}) == 403
        assert await status_of(server, {"Cookie": cookie, "Origin": https_page}) == 403
        assert await status_of(server, {"Cookie": cookie, "Origin": "http://localhost:6666"}) == 101
        assert await status_of(server, {"Cookie": cookie, "Origin": "http://localhost:6667"}) == 403
        ws, hello = await ws_connect(server, client)  # the plain page's own origin still works
        assert hello["user"]["username"] == "alice"
        await ws.close()

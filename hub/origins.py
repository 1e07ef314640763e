"""The WebSocket handshake's `Origin` check: the page's own origin, or one of HUB_ALLOWED_ORIGINS.

An origin is compared as (scheme, host, port), so another port or scheme on an allowed host
is another site. A refused handshake gets HTTP 403 before the upgrade.
"""

import functools
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http.request import split_domain_port, validate_host

from hub import counters

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(value):
    """(scheme, host, port) of a serialized origin `scheme://host[:port]`, or None if it is not one.

    Only http and https origins count; `null`, paths, credentials and bad ports do not.
    """
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        return None
    return parts.scheme, parts.hostname, port if port is not None else DEFAULT_PORTS[parts.scheme]


def parse_allowed_origins(values):
    """HUB_ALLOWED_ORIGINS checked at startup: every entry a full origin, never `*`."""
    parsed = []
    for value in values:
        if value == "*" or "*" in value:
            raise ImproperlyConfigured(
                "HUB_ALLOWED_ORIGINS: '*' is refused: list the full origins (scheme://host[:port]) "
                "whose pages may open the socket")
        origin = parse_origin(value)
        if origin is None:
            raise ImproperlyConfigured(
                f"HUB_ALLOWED_ORIGINS: {value!r} is not a full origin such as https://hub.example.com "
                "or http://localhost:8000 (a scheme, a host, an optional port, nothing after)")
        parsed.append(origin)
    return frozenset(parsed)


@functools.lru_cache(maxsize=4)
def _allowed(values):
    return parse_allowed_origins(values)


def allowed_origins():
    """The parsed HUB_ALLOWED_ORIGINS (read on each use, so tests can change the setting)."""
    return _allowed(tuple(settings.HUB_ALLOWED_ORIGINS))


def _header(headers, name):
    """The value of header `name` (bytes, lower case), None if absent; a repeated header counts as absent."""
    values = [value for key, value in headers if key == name]
    return values[0].decode("latin1") if len(values) == 1 else None


def socket_scheme(scope):
    """`https` or `http`: the scheme of the page that would share this socket's origin.

    Django's rule for HTTP requests (HttpRequest.scheme): SECURE_PROXY_SSL_HEADER, when set and
    sent, decides; else the server's own scheme. daphne puts no `scheme` in a WebSocket scope,
    even with --proxy-headers, so the ASGI default `ws` applies there.
    """
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        value = _header(scope.get("headers", []), name)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme", "ws") in ("wss", "https") else "http"


def own_origin(scope):
    """The origin of the site this socket was opened on ((scheme, host, port)), or None.

    None when the `Host` header is missing, malformed or not in ALLOWED_HOSTS.
    """
    host = _header(scope.get("headers", []), b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]  # Django's own rule for HTTP
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    return parse_origin(f"{socket_scheme(scope)}://{host}")


def origin_allowed(scope):
    """True when the handshake's `Origin` is the socket's own origin or one of HUB_ALLOWED_ORIGINS."""
    own = own_origin(scope)
    if own is None:
        return False
    origin_header = _header(scope.get("headers", []), b"origin")
    origin = parse_origin(origin_header) if origin_header else None
    return origin is not None and (origin == own or origin in allowed_origins())


class OriginValidator:
    """ASGI middleware in front of the socket: a handshake whose `Origin` is not allowed is refused.

    Replaces Channels' AllowedHostsOriginValidator, which compared hosts only, so any port or
    scheme on an allowed host passed (a page on http://localhost:6666 could open the socket of
    http://localhost:8000 with the user's cookie). Browsers always send `Origin` on a WebSocket
    handshake and scripts cannot forge it, so a missing one is refused too.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("OriginValidator only guards WebSocket connections")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        counters.count("handshakes_refused", "origin")
        logger.info(
            "WebSocket handshake refused: Origin %r on Host %r (scheme %s)",
            _header(scope.get("headers", []), b"origin"), _header(scope.get("headers", []), b"host"),
            socket_scheme(scope))
        message = await receive()
        if message["type"] == "websocket.connect":
            # A close before accept: the server answers the handshake with HTTP 403.
            await send({"type": "websocket.close"})

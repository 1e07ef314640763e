"""Django settings: everything comes from the environment, with safe working defaults."""

import ipaddress
import os
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from hub.embedded_redis import default_url as embedded_redis_url
from hub.origins import parse_allowed_origins
from hub.rates import parse_rate
from hub.redis_topology import RedisConfigError, RedisTopology, parse_sentinels

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


class _Env(environ.Env):
    """environ.Env whose numbers name their variable when they are not numbers (its own error, a bare
    ValueError, says neither which variable nor what it should be)."""

    def int(self, var, default=environ.Env.NOTSET):
        try:
            return super().int(var, default=default)
        except ValueError:
            raise ImproperlyConfigured(f"{var} must be a whole number, not {self.str(var)!r}") from None

    def float(self, var, default=environ.Env.NOTSET):
        try:
            return super().float(var, default=default)
        except ValueError:
            raise ImproperlyConfigured(f"{var} must be a number, not {self.str(var)!r}") from None


env = _Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(python3 dev.py run turns debug on and sets a development key for you)."
        )
    SECRET_KEY = "dev-insecure-key-debug-only"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Pages of other origins that may open the socket (the page's own origin always may).
HUB_ALLOWED_ORIGINS = env.list("HUB_ALLOWED_ORIGINS", default=[])
parse_allowed_origins(HUB_ALLOWED_ORIGINS)  # '*' or anything but a full origin stops startup

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "hub.apps.HubConfig",
    "presence.apps.PresenceConfig",
    "notifications.apps.NotificationsConfig",
    "chat.apps.ChatConfig",
    "live.apps.LiveConfig",
    "collab.apps.CollabConfig",
    "games.apps.GamesConfig",
    "api.apps.ApiConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hub.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "hub.urls"
ASGI_APPLICATION = "hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hub.context_processors.hub_settings",
            ],
        },
    },
]

# --- Database: SQLite (WAL, see hub.apps) by default, PostgreSQL via DATABASE_URL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Keep connections: daphne runs every database call on one worker thread, and with
# Django's default of 0 each call would open (and for PostgreSQL authenticate) a new one.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    # Waiting beats failing with "database is locked" when several processes write.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # One test database file per test run, so parallel runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: the channel layer, the cache and presence share one server: REDIS_URL's, or the
# primary the Sentinels name (hub/redis_topology.py has the rule; README, "Configuration").
try:
    REDIS_SENTINELS = parse_sentinels(env.str("REDIS_SENTINELS", default=""))
except RedisConfigError as error:
    raise ImproperlyConfigured(str(error)) from None
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="")
REDIS_SENTINEL_PASSWORD = env.str("REDIS_SENTINEL_PASSWORD", default="")
REDIS_URL = env.str("REDIS_URL", default="") or ("redis:///0" if REDIS_SENTINELS else embedded_redis_url(BASE_DIR))
try:
    redis_topology = RedisTopology(REDIS_URL, tuple(REDIS_SENTINELS), REDIS_SENTINEL_MASTER, REDIS_SENTINEL_PASSWORD)
    if REDIS_SENTINELS:
        redis_topology.primary_credentials()  # a bad database fails here, not at the first connection
except RedisConfigError as error:
    raise ImproperlyConfigured(str(error)) from None
# Key prefix for everything Hub stores in Redis (lets test runs share one server).
HUB_REDIS_PREFIX = env.str("HUB_REDIS_PREFIX", default="hub")

# The pub/sub layer: one PUBLISH per group_send whatever the group size, delivered once
# per server process. docs/architecture.md has the measurements behind this choice;
# HUB_CHANNEL_LAYER=core switches to channels-redis's list-based layer (for comparison).
HUB_CHANNEL_LAYER = env.str("HUB_CHANNEL_LAYER", default="pubsub")
if HUB_CHANNEL_LAYER not in ("pubsub", "core"):
    raise ImproperlyConfigured(f"HUB_CHANNEL_LAYER must be pubsub or core, not {HUB_CHANNEL_LAYER!r}")
# The channel layer spread over several Redis servers (channels-redis puts each group on one of them by
# a hash of its name), so fan-out bandwidth grows with servers; unset: the layer uses REDIS_URL's.
HUB_LAYER_REDIS_URLS = env.list("HUB_LAYER_REDIS_URLS", default=[])
for _url in HUB_LAYER_REDIS_URLS:
    if not re.match(r"^(rediss?|unix)://", _url):
        raise ImproperlyConfigured(f"HUB_LAYER_REDIS_URLS: {_url!r} is not a redis://, rediss:// or unix:// URL")
if HUB_LAYER_REDIS_URLS and REDIS_SENTINELS:
    raise ImproperlyConfigured("HUB_LAYER_REDIS_URLS and REDIS_SENTINELS do not go together: the layer's shards "
                               "would not follow a failover")
if HUB_LAYER_REDIS_URLS and HUB_CHANNEL_LAYER != "pubsub":
    raise ImproperlyConfigured("HUB_LAYER_REDIS_URLS needs the pub/sub layer (HUB_CHANNEL_LAYER=pubsub)")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": (
            "hub.layers.BlockingRedisChannelLayer"
            if HUB_CHANNEL_LAYER == "core"
            else "hub.layers.FanoutRedisPubSubChannelLayer"
        ),
        "CONFIG": {
            # redis-py 8 defaults to a 5 s socket timeout; channels-redis blocks 5 s on reads.
            "hosts": [{"address": url, "socket_timeout": 30} for url in HUB_LAYER_REDIS_URLS]
            or [redis_topology.layer_host(socket_timeout=30)],
            "prefix": f"{HUB_REDIS_PREFIX}.layer",
        },
    }
}
CACHES = {"default": redis_topology.cache(key_prefix=f"{HUB_REDIS_PREFIX}.cache")}

# --- Auth: django-allauth, username or email login, optional verification.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_ADAPTER = "hub.accounts.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGOUT_ON_GET = False
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
# Behind a proxy, allauth's per-IP limits (login, signup, password reset) count the address
# the nearest trusted proxy saw: X-Forwarded-For's entry this many from the right. 0 trusts no
# proxy (REMOTE_ADDR), which behind one would put every user in one bucket.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="")
if not EMAIL_BACKEND:
    if not DEBUG:
        # The console backend would print password-reset links into the logs: whoever reads
        # the logs could take over any account. It stays available, but only when named.
        raise ImproperlyConfigured(
            "EMAIL_BACKEND must be set when DJANGO_DEBUG is off, e.g. "
            "django.core.mail.backends.smtp.EmailBackend; the console backend writes password-reset "
            "links into the logs, so it is used only when EMAIL_BACKEND names it explicitly."
        )
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Hub <hub@localhost>")
# Notifications still unread this many seconds after they were made, whose recipient had no live
# socket since, are emailed in one digest per person per window (notifications.emails); 0: no emails.
HUB_EMAIL_AFTER = env.int("HUB_EMAIL_AFTER", default=600)
if not 0 <= HUB_EMAIL_AFTER <= 7 * 86400:
    raise ImproperlyConfigured("HUB_EMAIL_AFTER must be whole seconds from 0 (no emails) to 604800 (a week)")
# Where the site is, for the links in emails (which have no request to take it from): by default
# https://<the first of DJANGO_ALLOWED_HOSTS>, or http://127.0.0.1:8000 (python3 dev.py run) with debug on.
HUB_SITE_URL = env.str("HUB_SITE_URL", default="").rstrip("/")
if not HUB_SITE_URL:
    HUB_SITE_URL = "http://127.0.0.1:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0] if ALLOWED_HOSTS else 'localhost'}"
if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", HUB_SITE_URL):
    raise ImproperlyConfigured(f"HUB_SITE_URL must be an http(s):// address such as https://hub.example.com, "
                               f"not {HUB_SITE_URL!r}")

# --- HTTPS. With debug off every HTTPS-only setting is on; DJANGO_SECURE_COOKIES=0 turns them
# all off for plain-http setups (the test suite's servers, a LAN demo), whatever the debug mode.
HTTPS_ONLY = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_SSL_REDIRECT = HTTPS_ONLY
# The proxy's health checks come over plain http, straight to the server.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=365 * 24 * 3600) if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
# Preloading puts the whole registrable domain into browsers' built-in HTTPS-only list, which
# takes months to undo: the domain owner's decision, so not a default (hence W021 silenced).
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Every response: no MIME sniffing, no full URLs to other sites in Referer, and a policy that
# runs scripts, styles and sockets of this origin only (hub.security_headers). `'self'` covers
# ws:// and wss:// to the page's own host and port in current browsers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
HUB_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # the favicon is a data: URL
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# "X-Forwarded-Proto=https": a request carrying that header with that value came over HTTPS to
# the proxy. Only behind a proxy that sets the header itself, never passing a client's on.
_proxy_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = None
if _proxy_ssl_header:
    _name, _, _value = _proxy_ssl_header.partition("=")
    if not re.fullmatch(r"[A-Za-z0-9-]+", _name.strip()) or not _value.strip():
        raise ImproperlyConfigured(
            f"DJANGO_SECURE_PROXY_SSL_HEADER must be HEADER=VALUE such as X-Forwarded-Proto=https, "
            f"not {_proxy_ssl_header!r}")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing root on every start
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Debug mode serves straight from the finders; production after collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Hub limits (PROTOCOL.md "Limits").
HUB_HEARTBEAT = env.int("HUB_HEARTBEAT", default=25)
HUB_PRESENCE_TTL = env.int("HUB_PRESENCE_TTL", default=60)
if HUB_HEARTBEAT < 1 or HUB_PRESENCE_TTL < 2 * HUB_HEARTBEAT:
    # A socket that heartbeats on time must never look idle or dead, even after one late
    # heartbeat; and the keep-alive pacing (hub.guards.Watchdog) relies on it.
    raise ImproperlyConfigured(
        f"HUB_PRESENCE_TTL ({HUB_PRESENCE_TTL}) must be at least twice HUB_HEARTBEAT ({HUB_HEARTBEAT}), "
        "and HUB_HEARTBEAT at least 1 second")
HUB_MAX_FRAME = env.int("HUB_MAX_FRAME", default=65536)
# 0 turns the cap off (for the bench's before/after only: nothing then bounds a slow reader).
HUB_MAX_BUFFERED = env.int("HUB_MAX_BUFFERED", default=1024 * 1024)
if HUB_MAX_BUFFERED < 0:
    raise ImproperlyConfigured(f"HUB_MAX_BUFFERED must be a number of bytes (0: no cap), not {HUB_MAX_BUFFERED}")
HUB_CHAT_RATE = env.str("HUB_CHAT_RATE", default="20/10s")
HUB_FRAME_RATE = env.str("HUB_FRAME_RATE", default="200/10s")
HUB_ROOM_OPEN_RATE = env.str("HUB_ROOM_OPEN_RATE", default="30/1h")
HUB_USER_BUDGET = env.str("HUB_USER_BUDGET", default="600/10s")
for _rate_setting in ("HUB_CHAT_RATE", "HUB_FRAME_RATE", "HUB_ROOM_OPEN_RATE", "HUB_USER_BUDGET"):
    try:
        parse_rate(globals()[_rate_setting])
    except ValueError as error:
        raise ImproperlyConfigured(f"{_rate_setting}: {error}") from None
HUB_MAX_SOCKETS_PER_USER = env.int("HUB_MAX_SOCKETS_PER_USER", default=20)
# 0 lifts the limit (for the bench's before/after only).
HUB_USER_FRAMES_IN_FLIGHT = env.int("HUB_USER_FRAMES_IN_FLIGHT", default=2)
HUB_SESSION_CHECK_SECS = env.int("HUB_SESSION_CHECK_SECS", default=60)
# A stopping server closes its sockets (1001) spread over this many seconds, so their clients
# do not all reconnect to the other servers at the same moment.
HUB_DRAIN_SECONDS = env.int("HUB_DRAIN_SECONDS", default=10)
# The users of a stopping server stay present this long: back on another server by then, nobody sees them flap.
HUB_PRESENCE_GRACE = env.int("HUB_PRESENCE_GRACE", default=15)
if not (0 <= HUB_DRAIN_SECONDS <= 300 and 0 <= HUB_PRESENCE_GRACE <= 300):
    raise ImproperlyConfigured("HUB_DRAIN_SECONDS and HUB_PRESENCE_GRACE must be whole seconds from 0 to 300")
# Above this many users present, a presence set lists a first page and a count instead of everyone,
# and its diffs carry the count and only the users each socket watches (docs/protocol.md "presence").
HUB_PRESENCE_LIST_MAX = env.int("HUB_PRESENCE_LIST_MAX", default=500)
if not 1 <= HUB_PRESENCE_LIST_MAX <= 100_000:
    raise ImproperlyConfigured("HUB_PRESENCE_LIST_MAX must be a number of users from 1 to 100000")
# Live streams (live/): at most this many frames a second per socket and stream, each with the latest values.
HUB_STREAM_MAX_HZ = env.int("HUB_STREAM_MAX_HZ", default=10)
if not 1 <= HUB_STREAM_MAX_HZ <= 50:
    raise ImproperlyConfigured("HUB_STREAM_MAX_HZ must be a number of frames a second from 1 to 50")
# Collaborative documents (collab/): one update's bytes, a document's stored bytes, updates a user may send,
# and how many stored updates are merged into a document's snapshot at once. An update travels as base64
# (4 bytes per 3) in a frame of at most HUB_MAX_FRAME, and a join's reply carries the whole document the
# same way, under the per-socket output cap: the defaults shrink to fit smaller frames and caps.
_DOC_UPDATE_FIT = (HUB_MAX_FRAME - 512) // 4 * 3
_DOC_FIT = (HUB_MAX_BUFFERED - 65536) // 4 * 3 if HUB_MAX_BUFFERED else 1 << 30
HUB_DOC_UPDATE_MAX_BYTES = env.int("HUB_DOC_UPDATE_MAX_BYTES", default=max(64, min(16384, _DOC_UPDATE_FIT)))
HUB_DOC_MAX_BYTES = env.int("HUB_DOC_MAX_BYTES", default=max(HUB_DOC_UPDATE_MAX_BYTES, min(262144, _DOC_FIT)))
HUB_DOC_UPDATE_RATE = env.str("HUB_DOC_UPDATE_RATE", default="150/10s")
HUB_DOC_COMPACT_EVERY = env.int("HUB_DOC_COMPACT_EVERY", default=100)
try:
    parse_rate(HUB_DOC_UPDATE_RATE)
except ValueError as error:
    raise ImproperlyConfigured(f"HUB_DOC_UPDATE_RATE: {error}") from None
if not 64 <= HUB_DOC_UPDATE_MAX_BYTES <= max(64, _DOC_UPDATE_FIT):
    raise ImproperlyConfigured(
        f"HUB_DOC_UPDATE_MAX_BYTES must be at least 64 bytes and fit a frame as base64: at most "
        f"{_DOC_UPDATE_FIT} with HUB_MAX_FRAME {HUB_MAX_FRAME}")
if not HUB_DOC_UPDATE_MAX_BYTES <= HUB_DOC_MAX_BYTES <= max(HUB_DOC_UPDATE_MAX_BYTES, _DOC_FIT):
    raise ImproperlyConfigured(
        "HUB_DOC_MAX_BYTES must be at least HUB_DOC_UPDATE_MAX_BYTES, and as base64 (with 64 KiB to spare) "
        f"under HUB_MAX_BUFFERED: at most {_DOC_FIT}")
if not 2 <= HUB_DOC_COMPACT_EVERY <= 10000:
    raise ImproperlyConfigured("HUB_DOC_COMPACT_EVERY must be a number of updates from 2 to 10000")
# The game (games/): each player's thinking time for a whole game, how long a player may be away from a
# game before forfeiting it, and how many games one user may start.
HUB_GAME_CLOCK_SECS = env.int("HUB_GAME_CLOCK_SECS", default=300)
HUB_GAME_GRACE_SECS = env.int("HUB_GAME_GRACE_SECS", default=30)
HUB_GAME_INVITE_RATE = env.str("HUB_GAME_INVITE_RATE", default="30/10m")
if not (10 <= HUB_GAME_CLOCK_SECS <= 86400 and 5 <= HUB_GAME_GRACE_SECS <= 3600):
    raise ImproperlyConfigured("HUB_GAME_CLOCK_SECS must be 10 to 86400 seconds and HUB_GAME_GRACE_SECS 5 to 3600")
try:
    parse_rate(HUB_GAME_INVITE_RATE)
except ValueError as error:
    raise ImproperlyConfigured(f"HUB_GAME_INVITE_RATE: {error}") from None
# glibc's mmap threshold, fixed for the server process (hub/malloc_tuning.py): long-lived
# daphne processes otherwise fragment their heap under connection churn. 0: glibc's default.
HUB_MALLOC_MMAP_THRESHOLD = env.int("HUB_MALLOC_MMAP_THRESHOLD", default=65536)
if not (HUB_MALLOC_MMAP_THRESHOLD == 0 or 4096 <= HUB_MALLOC_MMAP_THRESHOLD <= 32 * 1024 * 1024):
    raise ImproperlyConfigured("HUB_MALLOC_MMAP_THRESHOLD must be 0 or a number of bytes from 4096 to 33554432")
# Pushes written in a transaction wait in the outbox table until published (hub.outbox); the
# relay publishes those still there after this many seconds (their writer died, or Redis was away).
HUB_OUTBOX_AFTER = env.int("HUB_OUTBOX_AFTER", default=5)
if not 1 <= HUB_OUTBOX_AFTER <= 3600:
    raise ImproperlyConfigured("HUB_OUTBOX_AFTER must be whole seconds from 1 to 3600")

# The HTTP API (api/, docs/http-api.md): requests one token may make in any window of that length,
# and the largest request body in bytes (under Django's own 2.5 MB cap on bodies it reads).
HUB_API_RATE = env.str("HUB_API_RATE", default="600/1m")
try:
    parse_rate(HUB_API_RATE)
except ValueError as error:
    raise ImproperlyConfigured(f"HUB_API_RATE: {error}") from None
_api_max_body = env.str("HUB_API_MAX_BODY", default="262144").strip()
if not (_api_max_body.isascii() and _api_max_body.isdigit() and 1024 <= int(_api_max_body) <= 2 * 1024 * 1024):
    raise ImproperlyConfigured(
        f"HUB_API_MAX_BODY must be a number of bytes from 1024 to 2097152, not {_api_max_body!r}")
HUB_API_MAX_BODY = int(_api_max_body)


# --- Retention (manage.py hub_prune): whole days, 0 meaning "at the next run".
def _env_days(name, default):
    text = env.str(name, default=str(default)).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > 36500:
        raise ImproperlyConfigured(f"{name} must be a whole number of days from 0 to 36500, not {text!r}")
    return int(text)


HUB_NOTIFICATION_RETENTION_DAYS = _env_days("HUB_NOTIFICATION_RETENTION_DAYS", 90)
HUB_DELETED_BODY_RETENTION_DAYS = _env_days("HUB_DELETED_BODY_RETENTION_DAYS", 30)

# Prometheus metrics at /metrics (hub/metrics.py), off unless HUB_METRICS=1; readable from the
# HUB_METRICS_ALLOW addresses or networks, or by anyone sending `Authorization: Bearer <HUB_METRICS_TOKEN>`.
HUB_METRICS = env.bool("HUB_METRICS", default=False)
HUB_METRICS_ALLOW = env.list("HUB_METRICS_ALLOW", default=["127.0.0.1", "::1"])
HUB_METRICS_TOKEN = env.str("HUB_METRICS_TOKEN", default="")
for _network in HUB_METRICS_ALLOW:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"HUB_METRICS_ALLOW: {_network!r} is not an address or network (10.0.0.0/8)")
if HUB_METRICS_TOKEN and len(HUB_METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("HUB_METRICS_TOKEN must be at least 16 characters (python3 -c 'import secrets; "
                               "print(secrets.token_urlsafe())')")
if HUB_METRICS:
    # Every server process of the machine writes its numbers here and a scrape sums them (prometheus_client's
    # multiprocess mode, read when prometheus_client is first imported: so here, before any app imports it).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics"))
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

# One line per event; LOG_FORMAT=json for JSON lines. Lines logged while serving a socket name its
# connection and user id (hub/log_format.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s%(socket)s: %(message)s"},
                   "json": {"()": "hub.log_format.JsonFormatter"}},
    "filters": {"socket": {"()": "hub.log_format.SocketFields"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["socket"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

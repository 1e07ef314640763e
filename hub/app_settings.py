"""The socket's limits, rates and sizes: each written here once (django-allauth's app_settings pattern).

`from hub import app_settings`, then `app_settings.MAX_TOPICS_PER_SOCKET`. Values backed by an
environment setting (see README's Configuration) are properties, read on each use so tests
can change them; the others are fixed parts of the protocol.
"""

from django.conf import settings


class AppSettings:
    # --- the envelope (docs/protocol.md "Envelope")
    MAX_REF_LENGTH = 64
    """A `ref` is at most this many characters."""
    MAX_TOPIC_LENGTH = 200
    """A `topic` is at most this many characters."""
    MAX_EVENT_LENGTH = 64
    """An `event` is at most this many characters."""

    # --- one socket
    MAX_TOPICS_PER_SOCKET = 200
    """Topics one socket may have joined at once; the next `join` is `bad_request`."""
    FLOOD_MAX_FAILURES = 50
    """Failed or refused frames within FLOOD_WINDOW_SECS that close the socket with 4429."""
    FLOOD_WINDOW_SECS = 10.0
    REJOINS_PER_TOPIC = 3
    """Re-joins of one joined topic a socket may make per REJOIN_WINDOW_SECS (a token bucket); then `rate_limited`."""
    REJOIN_WINDOW_SECS = 10.0
    MAX_EVENT_COST = 1000
    """The largest weight a topic may give an event (`Topic.costs`)."""
    SESSION_CHECK_MAX_SECS = 300
    """However HUB_SESSION_CHECK_SECS is set, a socket re-checks its session at least this often."""
    SHUTDOWN_GRACE_SECS = 2.0
    """At shutdown, how long closed sockets get to run their disconnect before being cancelled."""

    # --- retention (manage.py hub_prune)
    PRUNE_BATCH_SIZE = 500
    """Rows one pruning transaction changes at most (`hub_prune --batch-size`): short enough that
    the server's writes never wait long on SQLite's one write lock."""
    PRUNE_LOCK_SECS = 3600
    """How long a running hub_prune keeps others from starting (a killed one frees it after this)."""

    @property
    def USERNAME_MAX_LENGTH(self):
        """The user model's username length (150 for Django's User): longer names cannot exist."""
        from django.contrib.auth import get_user_model

        user_model = get_user_model()
        return user_model._meta.get_field(user_model.USERNAME_FIELD).max_length

    @property
    def HEARTBEAT_SECS(self):
        """HUB_HEARTBEAT: seconds between client heartbeats (sent to clients in `hello`)."""
        return settings.HUB_HEARTBEAT

    @property
    def PRESENCE_TTL_SECS(self):
        """HUB_PRESENCE_TTL: seconds without a frame before a socket is closed 4408 and its presence expires."""
        return settings.HUB_PRESENCE_TTL

    @property
    def MAX_FRAME_BYTES(self):
        """HUB_MAX_FRAME: the largest client frame."""
        return settings.HUB_MAX_FRAME

    @property
    def FRAME_RATE(self):
        """HUB_FRAME_RATE: frames one socket may send, as COUNT/SECONDS (a token bucket)."""
        return settings.HUB_FRAME_RATE

    @property
    def DRAIN_SECS(self):
        """HUB_DRAIN_SECONDS: a stopping server closes its sockets (1001) spread over this long."""
        return settings.HUB_DRAIN_SECONDS

    @property
    def OUTBOX_AFTER_SECS(self):
        """HUB_OUTBOX_AFTER: the relay publishes outbox rows still there after this many seconds."""
        return settings.HUB_OUTBOX_AFTER

    @property
    def OUTBOX_RELAY_INTERVAL_SECS(self):
        """How often a server process tries to relay (and re-reads the resync marker)."""
        return min(1.0, settings.HUB_OUTBOX_AFTER / 2)

    @property
    def PRESENCE_GRACE_SECS(self):
        """HUB_PRESENCE_GRACE: how long the users of a stopping server stay present, to come back elsewhere."""
        return settings.HUB_PRESENCE_GRACE

    @property
    def PRESENCE_LIST_MAX(self):
        """HUB_PRESENCE_LIST_MAX: above this many users a presence set is told as a count (+ watched users)."""
        return settings.HUB_PRESENCE_LIST_MAX

    @property
    def USER_BUDGET(self):
        """HUB_USER_BUDGET: weight of expensive events one user may spend, as COUNT/SECONDS (hub.budget)."""
        return settings.HUB_USER_BUDGET

    @property
    def USER_FRAMES_IN_FLIGHT(self):
        """HUB_USER_FRAMES_IN_FLIGHT: frames of one user handled at once per process (hub.guards.UserTurns); 0: no limit."""
        return settings.HUB_USER_FRAMES_IN_FLIGHT

    @property
    def MAX_BUFFERED_BYTES(self):
        """HUB_MAX_BUFFERED: unsent output one socket may hold on the server before it is closed with 4413."""
        return settings.HUB_MAX_BUFFERED

    @property
    def MAX_SOCKETS_PER_USER(self):
        """HUB_MAX_SOCKETS_PER_USER: open sockets per user; the next one closes with 4429."""
        return settings.HUB_MAX_SOCKETS_PER_USER

    @property
    def SESSION_CHECK_SECS(self):
        """HUB_SESSION_CHECK_SECS, capped at SESSION_CHECK_MAX_SECS."""
        return min(settings.HUB_SESSION_CHECK_SECS, self.SESSION_CHECK_MAX_SECS)


_app_settings = AppSettings()


def __getattr__(name):
    # PEP 562: `app_settings.X` on the module reads the property each time.
    return getattr(_app_settings, name)

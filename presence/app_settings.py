"""Presence's limits and timings: each written here once (django-allauth's app_settings pattern).

`from presence import app_settings`, then `app_settings.COALESCE_SECS`.
"""


class AppSettings:
    STATUSES = ("online", "away")
    """What a connection may say of itself (a heartbeat's or `set`'s `status`)."""
    STATUS_MIN_INTERVAL_SECS = 1.0
    """A connection's status changes reach Redis at most this often; a later one waits, and the latest wins."""
    QUERY_MAX_USERS = 200
    """Usernames one `query` may ask about."""
    PAGE_SIZE = 50
    """Users a `presence` join lists when the site set is large (above HUB_PRESENCE_LIST_MAX): the first page."""
    LARGE_UNTIL_FRACTION = 0.8
    """A large set is told as a count until it shrinks to this fraction of HUB_PRESENCE_LIST_MAX (hysteresis:
    a set hovering around the limit must not switch every window, each switch making clients re-join)."""
    COALESCE_SECS = 0.25
    """Diffs are buffered per process and flushed as one push per set this often."""
    STORM_ENTRIES = 50
    """A window with this many changed users in one set is a storm ..."""
    STORM_COALESCE_SECS = 1.0
    """... and stretches the next window to this, so frames stay O(sockets) per window."""
    SWEEP_BATCH = 500
    """Expired connections removed per sweep script call."""
    SWEEP_MAX_BATCHES = 20
    """Batches per sweep run (10,000 dead connections); the next run goes on."""
    DELETED_USER_BLOCK_SECS = 3600
    """After a user is deleted, how long Redis refuses to track them again: longer than any socket of
    theirs can stay open (the close push ends them at once; the session re-check within 300 s)."""


_app_settings = AppSettings()


def __getattr__(name):
    return getattr(_app_settings, name)

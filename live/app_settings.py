"""Live streams' limits: each written here once (allauth's pattern). `from live import app_settings`."""

import re

from django.conf import settings


class AppSettings:
    STREAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    """A stream's name: the part after `stream:` (lower case, digits, `_.-`, at most 64)."""
    KEY_MAX_LENGTH = 64
    VALUE_MAX_BYTES = 1024
    """A value's JSON, encoded."""
    KEYS_PER_STREAM_MAX = 1000
    """Distinct keys one stream may hold: Redis and every join's snapshot stay bounded."""
    LOG_MAXLEN = 20000
    """Updates a stream's log keeps for the server processes' feeds; one that falls further behind sends a snapshot."""
    READ_BATCH = 5000
    """Log entries a feed reads per round trip."""

    @property
    def STREAM_MAX_HZ(self):
        """HUB_STREAM_MAX_HZ: frames a second one socket gets of one stream at most (the latest values in each)."""
        return settings.HUB_STREAM_MAX_HZ


app_settings = AppSettings()


def __getattr__(name):
    return getattr(app_settings, name)

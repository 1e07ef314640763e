"""The HTTP API's limits and sizes: each written here once (django-allauth's pattern).

`from api import app_settings`, then `app_settings.RATE`.
"""

from django.conf import settings


class AppSettings:
    SCOPES = ("notify", "announce", "events")
    """What a token may be allowed: POST /api/v1/notifications, /announcements, /events."""
    TOKEN_NAME_MAX_LENGTH = 100
    RECIPIENTS_MAX = 1000
    """Usernames one request may name (`recipients`, `users`)."""
    EVENT_PAYLOAD_MAX_BYTES = 32768
    """A custom event's payload as JSON: it travels to every socket of every user named, under HUB_MAX_BUFFERED."""
    IDEMPOTENCY_KEY_MAX_LENGTH = 255
    IDEMPOTENCY_TTL_SECS = 24 * 3600
    """How long a request's Idempotency-Key and its first answer are remembered."""
    IDEMPOTENCY_PENDING_SECS = 60
    """A key whose first request is still being answered is held this long at most (its process may die)."""
    LAST_USED_EVERY_SECS = 60
    """A token's last_used_at is written at most this often: not one database write per request."""

    @property
    def RATE(self):
        """HUB_API_RATE: requests one token may make, as COUNT/SECONDS (a sliding log in Redis)."""
        return settings.HUB_API_RATE

    @property
    def MAX_BODY_BYTES(self):
        """HUB_API_MAX_BODY: the largest request body; beyond it 413."""
        return settings.HUB_API_MAX_BODY


_app_settings = AppSettings()


def __getattr__(name):
    return getattr(_app_settings, name)

"""Notifications' and announcements' limits and sizes: each written here once (allauth's pattern).

`from notifications import app_settings`, then `app_settings.VERB_MAX_LENGTH`.
"""

from datetime import timedelta

from django.conf import settings


class AppSettings:
    NOTIFICATION_LEVELS = ("info", "success", "warning", "error")
    ANNOUNCEMENT_LEVELS = ("info", "warning", "critical")
    VERB_MAX_LENGTH = 255
    GROUP_KEY_MAX_LENGTH = 100
    ANNOUNCEMENT_KEY_MAX_LENGTH = 100
    GROUP_ACTORS_MAX = 1000
    """Distinct actors a grouped notification remembers (for "and N others"); later ones only count."""
    GROUP_ACTORS_SHOWN = 3
    URL_MAX_LENGTH = 500
    TARGET_REPR_MAX_LENGTH = 200
    """`str(target)` is frozen at creation, cut to this length."""
    TITLE_MAX_LENGTH = 200
    """An announcement's title."""
    BODY_MAX_LENGTH = 5000
    """An announcement's body."""
    MAX_ANNOUNCEMENT_LIFETIME = timedelta(days=36525)
    """Far enough for any real announcement, near enough that date arithmetic cannot overflow."""
    READ_IDS_MAX = 500
    """Ids one `read` may mark."""
    JOIN_NEWEST = 20
    """Notifications a join without `since` answers with (and `list`'s default limit)."""
    SINCE_LIMIT = 500
    """Notifications a join with `since` answers with at most; beyond it `more` is true."""
    LIST_MAX_LIMIT = 100
    """The largest `limit` of one `list` request."""
    ANNOUNCEMENTS_SHOWN = 100
    """Active announcements a join answers with (the newest)."""
    PAGE_SIZE = 25
    """Notifications per page of /notifications/."""

    @property
    def NOTIFICATION_RETENTION_DAYS(self):
        """HUB_NOTIFICATION_RETENTION_DAYS: `hub_prune` deletes read notifications created longer ago."""
        return settings.HUB_NOTIFICATION_RETENTION_DAYS


_app_settings = AppSettings()


def __getattr__(name):
    return getattr(_app_settings, name)

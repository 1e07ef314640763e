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

    EMAIL_CHECK_SECS = 30
    """How often a server process looks for notifications due to be emailed (one process a round)."""
    EMAIL_MAX_AGE = timedelta(days=2)
    """Notifications older than this when first looked at (a server down for days) are not emailed."""
    EMAIL_USERS_PER_ROUND = 200
    """People one round emails at most; the others are next (a round every EMAIL_CHECK_SECS)."""
    EMAIL_DIGEST_MAX_ITEMS = 50
    """Notifications one digest lists at most, the oldest first; the rest are in the next one."""

    @property
    def EMAIL_AFTER(self):
        """HUB_EMAIL_AFTER: seconds a notification waits, unread, before it may be emailed; 0: never."""
        return settings.HUB_EMAIL_AFTER

    @property
    def SITE_URL(self):
        """HUB_SITE_URL: where the links in emails point."""
        return settings.HUB_SITE_URL

    @property
    def NOTIFICATION_RETENTION_DAYS(self):
        """HUB_NOTIFICATION_RETENTION_DAYS: `hub_prune` deletes read notifications created longer ago."""
        return settings.HUB_NOTIFICATION_RETENTION_DAYS


_app_settings = AppSettings()


def __getattr__(name):
    return getattr(_app_settings, name)

"""Chat's limits, rates and sizes: each written here once (django-allauth's app_settings pattern).

`from chat import app_settings`, then `app_settings.BODY_MAX_LENGTH`. Models, services,
topics, views and templates read them from here.
"""

from django.conf import settings


class AppSettings:
    ROOM_NAME_MAX_LENGTH = 100
    """A room's name, after trimming."""
    ROOM_SLUG_MAX_LENGTH = 80
    """The slug column; slugs made from names are cut to ROOM_SLUG_BASE_LENGTH to leave room for `-2`, `-3`."""
    ROOM_SLUG_BASE_LENGTH = 60
    BODY_MAX_LENGTH = 4000
    """A message body, after trimming."""
    CLIENT_ID_MAX_LENGTH = 64
    """The sender's idempotency key of a message."""
    MAX_MEMBERS_AT_CREATE = 100
    """Members named in one `create`."""

    TYPING_RELAYS_PER_SEC = 4
    """Typing relays per user and room; extra ones are dropped quietly."""
    JOIN_NEWEST = 50
    """Messages a join without `since` answers with (and `history`'s default limit)."""
    SINCE_LIMIT = 500
    """Messages a join with `since` answers with at most; beyond it `more` is true."""
    HISTORY_MAX_LIMIT = 100
    """The largest `limit` of one `history` request."""
    DM_NAME_PART_LENGTH = 48
    """Each username's share of a direct room's stored name ("ann & bob")."""
    MENTIONS_MAX = 20
    """Distinct @names of one message that are looked up and notified; later ones are plain text."""
    MUTE_MAX = __import__("datetime").timedelta(days=366)
    """The longest timed mute; longer is muting until unmuted."""
    RECEIPTS_MAX_MEMBERS = 20
    """Rooms of at most this many members show who has read what: their join lists every member's read
    marker and a `read` reaches everyone in the room. A bigger room does neither: each member's client
    moves its marker at every message, and telling every socket of N of them about each is N² frames."""
    MEMBER_SUGGESTIONS_MAX = 10
    """Members one `members` lookup (the composer's @name completion) answers with at most."""
    MENTION_AUTHOR_LENGTH = 100
    """The author's name in a mention's notification verb (the verb holds 255)."""
    SLUG_ATTEMPTS = 3
    """Tries at a free slug when another room takes the same one at the same moment."""

    @property
    def DELETED_BODY_RETENTION_DAYS(self):
        """HUB_DELETED_BODY_RETENTION_DAYS: `hub_prune` blanks a deleted message's body this long after."""
        return settings.HUB_DELETED_BODY_RETENTION_DAYS

    @property
    def SEND_RATE(self):
        """HUB_CHAT_RATE: chat writes (sends, edits, deletes) per user in any window of that length, as COUNT/SECONDS."""
        return settings.HUB_CHAT_RATE

    @property
    def ROOM_OPEN_RATE(self):
        """HUB_ROOM_OPEN_RATE: `create` and `open_dm` attempts per user, together, failed ones too (probing
        usernames costs what creating does), across tabs and processes: enough for people, not for a script."""
        return settings.HUB_ROOM_OPEN_RATE


_app_settings = AppSettings()


def __getattr__(name):
    return getattr(_app_settings, name)

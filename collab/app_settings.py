"""Collaborative documents' limits: each written here once (allauth's pattern). `from collab import app_settings`."""

from django.conf import settings


class AppSettings:
    TITLE_MAX_LENGTH = 200
    TEXT_NAME = "content"
    """The Y.Text of a document that the editor binds (other shared types in an update are kept, not shown)."""
    AWARENESS_TTL_SECS = 60
    """A cursor not refreshed for this long is gone (its socket's server died): clients refresh every 20 s."""
    POSITION_MAX_LENGTH = 256
    """A cursor end: a Yjs relative position, base64, a few dozen characters in practice."""
    AWARENESS_PER_SECOND = 10
    """Cursor moves one socket may send a second (each goes to every socket of the document)."""

    @property
    def UPDATE_MAX_BYTES(self):
        """HUB_DOC_UPDATE_MAX_BYTES: one update's bytes (decoded from base64)."""
        return settings.HUB_DOC_UPDATE_MAX_BYTES

    @property
    def DOCUMENT_MAX_BYTES(self):
        """HUB_DOC_MAX_BYTES: a document's stored bytes (its snapshot and the updates since); edits past it are refused."""
        return settings.HUB_DOC_MAX_BYTES

    @property
    def UPDATE_RATE(self):
        """HUB_DOC_UPDATE_RATE: updates one user may send, over all documents and tabs."""
        return settings.HUB_DOC_UPDATE_RATE

    @property
    def COMPACT_EVERY(self):
        """HUB_DOC_COMPACT_EVERY: stored updates merged into the document's snapshot once there are this many."""
        return settings.HUB_DOC_COMPACT_EVERY


app_settings = AppSettings()


def __getattr__(name):
    return getattr(app_settings, name)

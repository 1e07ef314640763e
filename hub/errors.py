"""HubError and its subclasses: the one kind of error services raise; the consumer alone turns them into replies.

Views, the admin and management commands catch HubError and show its message (a form
error, an HTTP 4xx, a CommandError). BadRequest is also a ValueError, so Python callers of
the public API (`notifications.notify`, ...) may catch either. A TypeError means calling
code passed the wrong kind of object (a bug), never bad input from a person.
"""


class HubError(Exception):
    """A protocol error: `code` is one of PROTOCOL.md's codes; `extra` goes into the error object."""

    code = "internal"
    default_message = "Internal error."

    def __init__(self, message=None, **extra):
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def as_dict(self):
        return {"code": self.code, "message": self.message, **self.extra}


class BadRequest(HubError, ValueError):
    code = "bad_request"
    default_message = "Bad request."


class UnknownTopic(HubError):
    code = "unknown_topic"
    default_message = "Unknown topic."


class UnknownEvent(HubError):
    code = "unknown_event"
    default_message = "Unknown event."


class NotJoined(HubError):
    code = "not_joined"
    default_message = "Join this topic first."


class Forbidden(HubError):
    code = "forbidden"
    default_message = "You are not allowed to do that."


class NotFound(HubError):
    code = "not_found"
    default_message = "Not found."


class RateLimited(HubError):
    code = "rate_limited"
    default_message = "Too many requests; slow down."

    def __init__(self, retry_after, message=None):
        super().__init__(message, retry_after=round(float(retry_after), 3))


class TooLarge(HubError):
    code = "too_large"
    default_message = "Frame too large."


class Internal(HubError):
    code = "internal"

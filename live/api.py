"""The public API of live streams: `live.publish(stream, key, value)` from any process, and `live.allow(...)`
for apps whose streams are not for everyone."""

from live import store

_checks = []  # [(prefix, check)]: check(user, stream) -> bool, sync (it may query the database)


def publish(stream, key, value):
    """Set `key` of `stream` to `value` (a JSON object) for everyone watching; returns the update's seq.

    Sync, one Redis round trip: a management command or a worker may call it thousands of times a
    second. Raises BadRequest (a ValueError) for a bad name, key or value, or a new key past the
    stream's limit. Subscribers get at most HUB_STREAM_MAX_HZ frames a second, each with the
    latest value of every key that changed: the last value wins.
    """
    return store.publish(stream, key, value)


async def apublish(stream, key, value):
    """publish() for async code."""
    return await store.apublish(stream, key, value)


def allow(prefix, check):
    """Streams whose name starts with `prefix` are open only to users for whom `check(user, stream)` is true.

    Without a check a stream is open to every signed-in user. The check runs at each join, and again
    for an open socket after its user was re-read (their rights changed, or the periodic session check).
    """
    if not callable(check):
        raise TypeError("check must be callable: check(user, stream) -> bool")
    _checks.append((prefix, check))


def check_for(stream):
    """The check that applies to `stream` (the longest matching prefix), or None."""
    found = [(len(prefix), check) for prefix, check in _checks if stream.startswith(prefix)]
    return max(found, key=lambda item: item[0])[1] if found else None

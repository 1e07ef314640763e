"""Notifications and announcements. Public API: notify, anotify, announce (see docs/python-api.md)."""


def notify(recipient, verb, **kwargs):
    from notifications.services import notify as _notify

    return _notify(recipient, verb, **kwargs)


async def anotify(recipient, verb, **kwargs):
    from notifications.services import anotify as _anotify

    return await _anotify(recipient, verb, **kwargs)


def announce(title, body, **kwargs):
    from notifications.services import announce as _announce

    return _announce(title, body, **kwargs)

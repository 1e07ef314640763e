"""Notifications and announcements. Public API: notify, anotify, announce, register_kind (see docs/python-api.md).

The functions import the services on call: this package is imported before Django's
app registry is ready (INSTALLED_APPS), when models cannot be loaded yet.
"""


def notify(recipient, verb, *, actor=None, target=None, level="info", data=None, url=None, group_key=None,
           kind=None):
    """Store one notification per recipient in the caller's transaction; push after commit.
    With `group_key`, an unread one of that key takes this one in instead (pushed as `updated`);
    recipients who turned `kind` off (see register_kind) get nothing."""
    from notifications.services import notify as _notify

    return _notify(recipient, verb, actor=actor, target=target, level=level, data=data, url=url,
                   group_key=group_key, kind=kind)


async def anotify(recipient, verb, *, actor=None, target=None, level="info", data=None, url=None, group_key=None,
                  kind=None):
    """notify() for async code (the database work runs in a thread)."""
    from notifications.services import anotify as _anotify

    return await _anotify(recipient, verb, actor=actor, target=target, level=level, data=data, url=url,
                          group_key=group_key, kind=kind)


def register_kind(name, label, *, default="in_app"):
    """Declare a kind of notification ("app.thing") in AppConfig.ready(): people choose in the app, in the
    app and by email, or off for it at /settings/notifications/ (`default` until they do)."""
    from notifications.kinds import register_kind as _register_kind

    return _register_kind(name, label, default=default)


def announce(title, body, *, level="info", expires_at=None, author=None, audience="all", publish_at=None, key=None):
    """Publish an announcement to `audience` ("all", "staff", "online" or a Group); pushed live to its open
    pages after commit, or at `publish_at`; the same `key` again returns the first one."""
    from notifications.services import announce as _announce

    return _announce(title, body, level=level, expires_at=expires_at, author=author, audience=audience,
                     publish_at=publish_at, key=key)

"""Hub: one authenticated WebSocket per tab for every real-time feature.

Public API (after django.setup()): `hub.send_to_user(user, topic, event, payload)`
and `hub.topics.register(pattern, handler_class)`.
"""


def send_to_user(user, topic, event, payload):
    """Push a custom event to every socket of `user` that joined `topic` (see hub.push)."""
    from hub.push import send_to_user as _send_to_user

    return _send_to_user(user, topic, event, payload)


async def asend_to_user(user, topic, event, payload):
    """Awaitable form of send_to_user."""
    from hub.push import asend_to_user as _asend_to_user

    await _asend_to_user(user, topic, event, payload)

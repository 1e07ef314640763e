"""Is the session behind an open socket still good? (logout elsewhere, expiry, deactivation, a new password)"""

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user


def session_user(session_key, user_id):
    """The user as the database has them now, while `session_key` still logs in `user_id` (the same
    checks as an HTTP request: a changed password ends the session); else None."""
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))
    return user if user.is_authenticated and user.pk == user_id and user.is_active else None

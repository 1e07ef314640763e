"""Is the session behind an open socket still good? (logout elsewhere, expiry, deactivation)"""

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user


def session_still_valid(session_key, user_id):
    """True while `session_key` still logs in `user_id` (same checks as an HTTP request)."""
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))
    return bool(user.is_authenticated and user.pk == user_id and user.is_active)

"""What Hub stops keeping: a deleted user's live state.

Apps register in their `AppConfig.ready()`, so that hub names no app:

    retention.on_user_deleted("presence", user_forget)

A user's deletion: one post_delete receiver (connected in hub's `ready()`); after the commit
every registered forget function runs, in registration order, then hub drops its own keys of
that user and closes their sockets (4401) — last, so that a closing socket finds nothing of
its user left to report. A Django signal per app could not promise that order.
"""

import logging
from functools import partial

from django.db import transaction

from hub import connections, protocol, rates
from hub.push import close_message, publish, user_group

logger = logging.getLogger(__name__)


# --- a deleted user


_forgetters = {}


def on_user_deleted(name, forget):
    """Call `forget(user_id=...)` after each user's deletion commits (apps drop what they keep of them)."""
    existing = _forgetters.get(name)
    if existing is not None and existing is not forget:
        raise ValueError(f"a user-deletion hook named {name!r} is already registered")
    _forgetters[name] = forget


def user_deleted(sender, instance, using, **kwargs):
    """post_delete receiver of the user model: forget them once the deletion commits (never on a rollback)."""
    transaction.on_commit(partial(user_forget, user_id=instance.pk), using=using)


def user_forget(*, user_id):
    """Every app forgets the user, hub drops its per-user keys, then the user's open sockets close 4401.

    A failing step is logged and the others still run (the deletion itself has committed).
    """
    steps = [*_forgetters.items(), ("hub", _hub_forget)]
    for name, forget in steps:
        try:
            forget(user_id=user_id)
        except Exception:
            logger.exception("could not remove what %s keeps of deleted user %s", name, user_id)


def _hub_forget(*, user_id):
    connections.forget_user(user_id)
    rates.forget_user(user_id)
    # Their sessions went with them: the same close as a logout's (the client goes to the login page).
    publish([user_group(user_id)], close_message(protocol.CLOSE_SESSION_ENDED))

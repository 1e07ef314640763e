"""Signal receivers of the hub app."""

import logging

from hub.protocol import CLOSE_SESSION_ENDED
from hub.push import close_message, publish, session_group

logger = logging.getLogger(__name__)


def close_sockets_on_logout(sender, request, user, **kwargs):
    """Close every socket of the session that is logging out with 4401 (they share its key)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key:
        return
    try:
        publish([session_group(session_key)], close_message(CLOSE_SESSION_ENDED))
    except Exception:
        # The periodic session check still closes them; logout itself must not fail.
        logger.warning("could not push logout to open sockets", exc_info=True)

"""Site-wide presence follows every socket's life (registered with hub.lifecycle)."""

from hub import app_settings as hub_settings, lifecycle
from presence import services


class PresenceListener:
    """A user is online while any socket lives: track on connect, refresh on activity, forget on close.

    Independent of joining the `presence` topic: a tab that only shows a chat room
    still makes its user online.
    """

    async def started(self):
        services.ensure_sweeper()  # dead connections of crashed servers go, even with no socket here

    async def connected(self, conn):
        services.ensure_sweeper()  # servers other than daphne never call started()
        await services.connection_open(conn)

    async def user_changed(self, conn):
        """They may have begun or stopped appearing offline."""
        await services.connection_visibility_check(conn)

    async def activity(self, conn):
        await services.connection_refresh(conn)

    async def heartbeat(self, conn, payload):
        """A heartbeat may carry the connection's status (`away` while its tab is hidden)."""
        status = services.status_from(payload, required=False)
        if status is not None:
            await services.connection_status_set(conn, status)

    async def disconnected(self, conn):
        if lifecycle.is_draining() and hub_settings.PRESENCE_GRACE_SECS > 0:
            await services.connection_hand_over(conn, hub_settings.PRESENCE_GRACE_SECS)
        else:
            await services.connection_forget(conn)

    async def shutdown(self):
        await services.flush_pending()

"""Site-wide presence follows every socket's life (registered with hub.lifecycle)."""

from django.conf import settings

from presence import api, services, store


class PresenceListener:
    """A user is online while any socket lives: track on connect, refresh on activity, forget on close."""

    async def connected(self, conn):
        services.ensure_sweeper()
        await api.track(conn, services.SITE_SET, event=services.SITE_EVENT)

    async def heartbeat(self, conn, status):
        await store.touch(conn.conn_id, settings.HUB_PRESENCE_TTL)
        if status is not None:
            await services.publish(await store.set_status(conn.conn_id, status))

    async def activity(self, conn):
        await store.touch(conn.conn_id, settings.HUB_PRESENCE_TTL)

    async def disconnected(self, conn):
        await services.publish(await store.forget(conn.conn_id))

"""Topic `doc:<id>`: Yjs sync at join, updates from editors relayed to everyone, and cursors (docs/protocol.md)."""

import logging

from channels.db import database_sync_to_async

from collab import app_settings, awareness, services
from hub import rates
from hub.errors import NotFound, RateLimited
from hub.guards import FrameBudget
from hub.payload import get_str, id_suffix
from hub.push import apublish, apush_to_topic, push_message, user_group
from hub.topics import Topic

logger = logging.getLogger(__name__)
STATE_VECTOR_MAX_BYTES = 64 * 1024  # a client id and a clock per writer ever seen: far fewer in practice


def _position(payload, field):
    value = get_str(payload, field, required=False, max_length=app_settings.POSITION_MAX_LENGTH)
    if value is not None:
        services.decode_base64(value, field, app_settings.POSITION_MAX_LENGTH)
    return value


class DocTopic(Topic):
    """One socket in one document: its role is read at join and again on every update and every `access` push."""

    events = ("update", "awareness")
    filtered_events = ("access",)  # updates, cursors and removals go to every socket alike
    costs = {"join": 5}  # the whole stored document read and diffed against the client's state

    document_id = None
    aid = None

    async def join(self, payload):
        document_id = id_suffix(self.suffix, "document")
        state_vector = payload.get("state_vector")
        state_vector = b"" if state_vector is None else services.decode_base64(
            state_vector, "state_vector", STATE_VECTOR_MAX_BYTES)
        document, role = await database_sync_to_async(services.document_for)(
            document_id=document_id, user=self.user)
        self.document_id, self.role = document.pk, role
        self.aid = awareness.awareness_id(self.conn.conn_id, self.topic)
        self.cursors = FrameBudget(app_settings.AWARENESS_PER_SECOND, 1)
        # Subscribe, then read: an update stored in between comes both ways, and Yjs applies it once.
        await self.subscribe()
        missing, server_vector = await database_sync_to_async(services.sync)(
            document=document, state_vector=state_vector)
        return {
            "document": {"id": document.pk, "title": document.title, "public": document.public,
                         "owner": document.owner.username},
            "role": role,
            "update": services.encode_base64(missing),
            "state_vector": services.encode_base64(server_vector),
            "me": awareness.state(self.aid, self.user, None, None),
            "awareness": await awareness.states(document.pk, but=self.aid),
        }

    async def leave(self):
        if self.aid is None or self.replaced:  # a re-join of this socket keeps its cursor
            return
        try:
            await awareness.remove(self.document_id, self.aid)
            await apush_to_topic(self.topic, "awareness", {"id": self.aid, "gone": True}, droppable=False)
        except Exception as exc:  # Redis away: the others drop the cursor once it is stale
            logger.warning("%s: could not remove a cursor: %s", self.topic, exc)

    async def on_push(self, event, payload, message):
        if event != "access":
            return payload
        # The document's sharing changed: this socket's user may have lost it, or gained or lost editing.
        role = await database_sync_to_async(self._current_role)()
        if role is None:
            # Through the layer, so the consumer takes the user's sockets out of the topic (then_leave).
            await apublish([user_group(self.user.pk)], push_message(
                self.topic, "removed", {"reason": "forbidden"}, then_leave=True))
            return None
        if role == self.role:
            return None
        self.role = role
        return {"role": role}

    def _current_role(self):
        try:
            return services.document_for(document_id=self.document_id, user=self.user)[1]
        except NotFound:
            return None

    async def on_update(self, payload):
        update = services.decode_base64(payload.get("update"), "update", app_settings.UPDATE_MAX_BYTES)
        await rates.limit("doc_update", self.user.pk, app_settings.UPDATE_RATE,
                          "Too many edits at once: send them merged, less often.")
        await database_sync_to_async(services.apply_update)(
            document_id=self.document_id, user=self.user, update=update, origin=self.aid)
        return {}

    async def on_awareness(self, payload):
        wait = self.cursors.take()
        if wait:
            raise RateLimited(wait, f"At most {app_settings.AWARENESS_PER_SECOND} cursor moves a second.")
        value = awareness.state(self.aid, self.user, _position(payload, "anchor"), _position(payload, "head"))
        await awareness.put(self.document_id, self.aid, value)
        # Droppable: a socket behind on its output skips a cursor that the next one replaces anyway.
        await apush_to_topic(self.topic, "awareness", value, droppable=True)
        return {}

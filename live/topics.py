"""Topic `stream:<name>`: a live table of keys and their latest values (docs/protocol.md)."""

from channels.db import database_sync_to_async

from hub.errors import Forbidden
from hub.topics import Topic
from live import api, feed, store


class StreamTopic(Topic):
    """`join` answers the snapshot; then `ticks` come from this process's feed of the stream (live.feed)."""

    events = ()
    costs = {"join": 5}  # a snapshot of up to KEYS_PER_STREAM_MAX values

    async def join(self, payload):
        store.check_name(self.suffix)
        check = api.check_for(self.suffix)
        if check is not None and not await database_sync_to_async(check)(self.user, self.suffix):
            raise Forbidden(f"You may not watch stream {self.suffix!r}.")
        values, seq = await store.snapshot(self.suffix)
        feed.join(self.suffix, self.conn, seq)  # no await after: no frame of it before this reply
        return {"snapshot": values, "seq": seq}

    async def leave(self):
        feed.leave(self.suffix, self.conn)

"""One feed per stream per server process: it reads the stream's log once for all the process's sockets and
sends each socket at most HUB_STREAM_MAX_HZ frames a second (conflation).

Every 1/HUB_STREAM_MAX_HZ seconds the feed reads the log's new entries and merges them, the last value of
each key winning, into one `ticks` frame, encoded once. Each socket remembers the seq its values include
(`since`: its join's snapshot, then each frame it was sent):
- up to date: nothing to send;
- behind by what this frame covers: the shared frame;
- behind by more (it was too slow to be written to, or it joined before the previous frame, or the log was
  trimmed under a feed that fell behind): one frame with the full snapshot, then the shared frames again.
A socket whose output is backing up (half of HUB_MAX_BUFFERED unsent) is skipped: it never gets a backlog,
only the newest values once it reads again. Frames go only to sockets whose join reply is out (the topic is
in the socket's joined topics), so a `ticks` never comes before the join's snapshot, and a socket never
gets an older value after a newer one.
"""

import asyncio
import json
import logging

from channels.db import database_sync_to_async

from hub import counters, fanout, protocol
from hub.daphne_limits import DROPPABLE_SHARE
from hub.push import apublish, push_message, user_group
from live import api, app_settings, store

logger = logging.getLogger(__name__)
_feeds = {}  # stream -> Feed (of the running loop)
COUNT_KEY = ("frames_out", "stream", "ticks")  # counted on the loop without a lock, as hub.fanout counts pushes


class Member:
    __slots__ = ("conn", "since", "user")

    def __init__(self, conn, since):
        self.conn, self.since, self.user = conn, since, conn.user


def join(stream, conn, since):
    """Have this process's feed of `stream` serve `conn` from `since` on (starting the feed if needed)."""
    loop = asyncio.get_running_loop()
    feed = _feeds.get(stream)
    if feed is None or feed.loop is not loop:
        feed = _feeds[stream] = Feed(stream, loop)
    feed.members[conn.conn_id] = Member(conn, since)
    feed.start()


def leave(stream, conn):
    feed = _feeds.get(stream)
    if feed is not None:
        feed.members.pop(conn.conn_id, None)
        if not feed.members:
            feed.stop()
            if _feeds.get(stream) is feed:
                del _feeds[stream]


class Feed:
    def __init__(self, stream, loop):
        self.stream, self.loop = stream, loop
        self.topic = f"stream:{stream}"
        self.members = {}  # conn id -> Member
        self.entry_id = self.seq = None  # how far the feed has read the log
        self.task = None

    def start(self):
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())

    def stop(self):
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self):
        interval = 1.0 / app_settings.STREAM_MAX_HZ
        task = asyncio.current_task()
        while self.members and not task.cancelling():  # redis-py may swallow a cancellation (hub.outbox)
            started = self.loop.time()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("stream %s: a tick failed; trying again", self.stream, exc_info=True)
            await asyncio.sleep(max(0.0, interval - (self.loop.time() - started)))

    async def tick(self):
        if self.entry_id is None:
            self.entry_id, self.seq = await store.last_entry(self.stream)
        entries = await store.entries_after(self.stream, self.entry_id, app_settings.READ_BATCH)
        covered_from = self.seq  # the shared frame holds every change after this seq
        changed = {}
        if entries:
            # Contiguous with what the feed read before, or not (the log was trimmed under a slow feed):
            # then whoever had only up to before the first entry needs the full snapshot.
            covered_from = self.seq if entries[0][1] == self.seq + 1 else entries[0][1] - 1
            for _, _, key, value in entries:
                changed[key] = value
            self.entry_id, self.seq = entries[-1][0], entries[-1][1]
        shared = _ticks_frame(self.topic, changed, self.seq) if changed else None
        prepared = fanout.prepare([m.conn for m in self.members.values()], shared) if shared else None
        snapshot = None
        for member in list(self.members.values()):
            conn = member.conn
            if conn.closed or not conn.is_joined(self.topic) or not await self._still_allowed(member):
                continue
            if member.since >= self.seq or fanout.is_behind(conn, DROPPABLE_SHARE):
                continue  # up to date; or behind: it keeps its `since`, the newest values once it reads again
            if shared is not None and member.since >= covered_from:
                # Framed once for every socket of the process (hub.fanout), else through the consumer.
                if prepared is None or not fanout.write_prepared(conn, prepared):
                    await conn.send_encoded(shared)
                member.since = self.seq
            else:
                if snapshot is None:
                    values, seq = await store.snapshot(self.stream)
                    snapshot = (protocol.encode(protocol.push(self.topic, "ticks", {"values": values, "seq": seq})), seq)
                await conn.send_encoded(snapshot[0])
                member.since = snapshot[1]
            counters.loop_counts[COUNT_KEY] += 1

    async def _still_allowed(self, member):
        """For a stream with a check: run it again once the socket's user was re-read (rights may have changed)."""
        conn = member.conn
        if conn.user is member.user:
            return True
        member.user = conn.user
        check = api.check_for(self.stream)
        if check is None or await database_sync_to_async(check)(conn.user, self.stream):
            return True
        self.members.pop(conn.conn_id, None)
        await apublish([user_group(conn.user.pk)], push_message(self.topic, "removed", {"reason": "forbidden"},
                                                                then_leave=True))
        return False


def _ticks_frame(topic, changed, seq):
    """The `ticks` push as text, the values spliced in as stored (each was checked JSON when published)."""
    values = ",".join(f"{json.dumps(key)}:{value}" for key, value in changed.items())
    return f'{{"topic":{json.dumps(topic)},"event":"ticks","payload":{{"values":{{{values}}},"seq":{seq}}}}}'

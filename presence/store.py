"""Presence state in Redis: per-connection entries with an expiry, grouped into named sets.

Every update is one Lua script (atomic across server processes) and returns the
user-level changes it caused: a user joins a set with their first connection, leaves
with their last, and is `away` when every connection of theirs in the set says away.
Costs: a heartbeat is one ZADD; track/untrack are O(the user's connections);
listing a set is O(its users); a sweep is O(expired connections).
"""

import json
import time

from hub.redis import get_async_redis, key

SWEEP_BATCH = 500

# Keys (all under HUB_REDIS_PREFIX, see docs/architecture.md):
#   p:exp              zset  conn -> expiry (unix seconds)
#   p:cuid             hash  conn -> user id
#   p:csets:<conn>     set   presence-set names the connection is tracked in
#   p:s:<set>:users    set   user ids with at least one connection in the set
#   p:s:<set>:u:<uid>  hash  conn -> "online" | "away"
#   p:s:<set>:meta     hash  conn -> metadata JSON
#   p:user             hash  user id -> USER JSON (so listing needs no database)
#   p:event            hash  set -> the push event name of its diffs
#   p:lastseen         hash  user id -> ISO time of the last leave of the site set
#   p:sweep-lock       string, held by the process sweeping now
_COMMON = """
local P = KEYS[1]
local function ukey(s, uid) return P .. ':s:' .. s .. ':u:' .. uid end
local function agg(s, uid)
  local values = redis.call('HVALS', ukey(s, uid))
  if #values == 0 then return false end
  for _, v in ipairs(values) do if v == 'online' then return 'online' end end
  return 'away'
end
local function change(before, after)
  if not before and after then return 'join' end
  if before and not after then return 'leave' end
  if before ~= after then return 'update' end
  return false
end
local out = {}
local function emit(s, uid, kind, status)
  if kind then
    table.insert(out, s); table.insert(out, uid); table.insert(out, kind)
    table.insert(out, status or 'offline')
    table.insert(out, redis.call('HGET', P .. ':user', uid) or '{}')
    table.insert(out, redis.call('HGET', P .. ':event', s) or 'presence')
  end
end
local function untrack(s, conn)
  local uid = redis.call('HGET', P .. ':cuid', conn)
  if not uid then return end
  if redis.call('HEXISTS', ukey(s, uid), conn) == 0 then return end
  local before = agg(s, uid)
  redis.call('HDEL', ukey(s, uid), conn)
  redis.call('HDEL', P .. ':s:' .. s .. ':meta', conn)
  redis.call('SREM', P .. ':csets:' .. conn, s)
  local after = agg(s, uid)
  if not after then redis.call('SREM', P .. ':s:' .. s .. ':users', uid) end
  emit(s, uid, change(before, after), after)
end
local function forget(conn)
  local sets = redis.call('SMEMBERS', P .. ':csets:' .. conn)
  for _, s in ipairs(sets) do untrack(s, conn) end
  redis.call('DEL', P .. ':csets:' .. conn)
  redis.call('HDEL', P .. ':cuid', conn)
  redis.call('ZREM', P .. ':exp', conn)
end
"""

# ARGV: set, conn, uid, status, expiry, user json, meta json ('' for none), event
_TRACK = _COMMON + """
local s, conn, uid, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local before = agg(s, uid)
redis.call('HSET', ukey(s, uid), conn, status)
redis.call('SADD', P .. ':s:' .. s .. ':users', uid)
redis.call('SADD', P .. ':csets:' .. conn, s)
redis.call('HSET', P .. ':cuid', conn, uid)
redis.call('ZADD', P .. ':exp', ARGV[5], conn)
redis.call('HSET', P .. ':user', uid, ARGV[6])
redis.call('HSET', P .. ':event', s, ARGV[8])
if ARGV[7] ~= '' then redis.call('HSET', P .. ':s:' .. s .. ':meta', conn, ARGV[7]) end
emit(s, uid, change(before, agg(s, uid)), agg(s, uid))
return out
"""

# ARGV: set, conn
_UNTRACK = _COMMON + """
untrack(ARGV[1], ARGV[2])
return out
"""

# ARGV: conn
_FORGET = _COMMON + """
forget(ARGV[1])
return out
"""

# ARGV: conn, status
_SET_STATUS = _COMMON + """
local conn, status = ARGV[1], ARGV[2]
local uid = redis.call('HGET', P .. ':cuid', conn)
if not uid then return out end
for _, s in ipairs(redis.call('SMEMBERS', P .. ':csets:' .. conn)) do
  local before = agg(s, uid)
  redis.call('HSET', ukey(s, uid), conn, status)
  emit(s, uid, change(before, agg(s, uid)), agg(s, uid))
end
return out
"""

# ARGV: now, batch size
_SWEEP = _COMMON + """
local expired = redis.call('ZRANGEBYSCORE', P .. ':exp', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, conn in ipairs(expired) do forget(conn) end
return out
"""

# ARGV: set -> flat [uid, status, user json, metas json]
_LIST = _COMMON + """
local s = ARGV[1]
for _, uid in ipairs(redis.call('SMEMBERS', P .. ':s:' .. s .. ':users')) do
  local status = agg(s, uid)
  if status then
    local conns = redis.call('HKEYS', ukey(s, uid))
    local metas = redis.call('HMGET', P .. ':s:' .. s .. ':meta', unpack(conns))
    local found = {}
    for _, m in ipairs(metas) do if m then table.insert(found, m) end end
    table.insert(out, uid); table.insert(out, status)
    table.insert(out, redis.call('HGET', P .. ':user', uid) or '{}')
    table.insert(out, '[' .. table.concat(found, ',') .. ']')
  end
end
return out
"""

# ARGV: set, uids... -> flat [uid, status-or-'offline']
_STATUSES = _COMMON + """
local s = ARGV[1]
for i = 2, #ARGV do
  table.insert(out, ARGV[i]); table.insert(out, agg(s, ARGV[i]) or 'offline')
end
return out
"""


class Change:
    """One user-level change in one presence set."""

    __slots__ = ("set_name", "user_id", "kind", "status", "user", "event", "last_seen")

    def __init__(self, set_name, user_id, kind, status, user, event):
        self.set_name, self.user_id, self.kind = set_name, int(user_id), kind
        self.status, self.user, self.event = status, user, event
        self.last_seen = None  # set for leaves of the site set

    def __repr__(self):
        return f"Change({self.set_name!r}, {self.user_id}, {self.kind!r}, {self.status!r})"


def _prefix():
    return key("p")


def _decode(value):
    return value.decode() if isinstance(value, bytes) else value


def _changes(flat):
    flat = [_decode(v) for v in flat]
    return [
        Change(flat[i], flat[i + 1], flat[i + 2], flat[i + 3], json.loads(flat[i + 4]), flat[i + 5])
        for i in range(0, len(flat), 6)
    ]


async def _run(script, *args):
    return await get_async_redis().eval(script, 1, _prefix(), *args)


async def track(set_name, conn_id, *, user, status, ttl_s, meta=None, event="presence"):
    """Add a connection to a set; returns the changes (a join when it is the user's first)."""
    meta_json = json.dumps(meta, separators=(",", ":")) if meta is not None else ""
    flat = await _run(_TRACK, set_name, conn_id, user["id"], status, time.time() + ttl_s,
                      json.dumps(user, separators=(",", ":")), meta_json, event)
    return _changes(flat)


async def untrack(set_name, conn_id):
    return _changes(await _run(_UNTRACK, set_name, conn_id))


async def forget(conn_id):
    """Remove a connection from every set (socket closed)."""
    return _changes(await _run(_FORGET, conn_id))


async def set_status(conn_id, status):
    """Change a connection's status in every set it is in."""
    return _changes(await _run(_SET_STATUS, conn_id, status))


async def touch(conn_id, ttl_s):
    """Push a connection's expiry forward: one ZADD, O(log n)."""
    await get_async_redis().zadd(f"{_prefix()}:exp", {conn_id: time.time() + ttl_s}, xx=True)


async def sweep(now=None, batch=SWEEP_BATCH):
    """Forget connections whose expiry passed (their server died); returns the changes."""
    return _changes(await _run(_SWEEP, now if now is not None else time.time(), batch))


async def acquire_sweep_lock(token, ttl_ms):
    """True if this process may sweep now (one process at a time, across all servers)."""
    return bool(await get_async_redis().set(f"{_prefix()}:sweep-lock", token, nx=True, px=ttl_ms))


async def list_set(set_name):
    """[(user USER dict, status, metas list)] for every user present in the set."""
    flat = [_decode(v) for v in await _run(_LIST, set_name)]
    return [
        (json.loads(flat[i + 2]), flat[i + 1], json.loads(flat[i + 3]))
        for i in range(0, len(flat), 4)
    ]


async def statuses(set_name, user_ids):
    """{user id: "online" | "away" | "offline"} for the given users."""
    if not user_ids:
        return {}
    flat = [_decode(v) for v in await _run(_STATUSES, set_name, *user_ids)]
    return {int(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


async def remember_last_seen(user_id, iso):
    await get_async_redis().hset(f"{_prefix()}:lastseen", user_id, iso)


async def last_seen(user_ids):
    """{user id: ISO} from Redis (the database keeps the same, for after a Redis restart)."""
    if not user_ids:
        return {}
    values = await get_async_redis().hmget(f"{_prefix()}:lastseen", list(user_ids))
    return {uid: _decode(v) for uid, v in zip(user_ids, values) if v is not None}

"""Presence state in Redis: per-connection entries with an expiry, grouped into named sets.

Every update is one Lua script (atomic across server processes) and returns the
user-level changes it caused: a user joins a set with their first connection, leaves
with their last, and is `away` when every connection of theirs in the set says away.
Costs: a heartbeat is one ZSCORE + ZADD; track/untrack are O(the user's connections);
listing a set is O(its users), or O(a page) once it is large; a sweep is O(expired
connections); purging a deleted user is O(sets ever used + their connections).
"""

import hashlib
import json

from redis.exceptions import NoScriptError

from hub.redis import get_async_redis, get_sync_redis, key
from presence import app_settings

PREFIX_PART = "{p}"
# Keys (all under HUB_REDIS_PREFIX and the hash tag "{p}", written p: below; see docs/architecture.md):
#   p:exp              zset  conn -> expiry (unix seconds, Redis's clock)
#   p:cuid             hash  conn -> user id
#   p:csets:<conn>     set   presence-set names the connection is tracked in
#   p:s:<set>:status   hash  user id -> "online" | "away": users with a connection in the set
#   p:s:<set>:u:<uid>  hash  conn -> "online" | "away"
#   p:s:<set>:meta     hash  conn -> metadata JSON
#   p:s:<set>:large    string, set while the set is told as a count (above HUB_PRESENCE_LIST_MAX)
#   p:user             hash  user id -> USER JSON (so listing needs no database)
#   p:event            hash  set -> the push event name of its diffs
#   p:lastseen         hash  user id -> ISO time of the last leave of the site set
#   p:gone:<uid>       string, set for a while once the user is deleted: they cannot be tracked again
#   p:sweep-lock       string, held by the process sweeping now
#
# Expiry scores use Redis's own clock (TIME), so servers on machines whose clocks
# disagree never sweep each other's live connections.
_COMMON = """
local P = KEYS[1]
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function ukey(s, uid) return P .. ':s:' .. s .. ':u:' .. uid end
local function agg(s, uid)
  local values = redis.call('HVALS', ukey(s, uid))
  if #values == 0 then return false end
  for _, v in ipairs(values) do if v == 'online' then return 'online' end end
  return 'away'
end
local function metas(s, uid)
  local conns = redis.call('HKEYS', ukey(s, uid))
  if #conns == 0 then return '[]' end
  local found = {}
  for _, m in ipairs(redis.call('HMGET', P .. ':s:' .. s .. ':meta', unpack(conns))) do
    if m then table.insert(found, m) end
  end
  return '[' .. table.concat(found, ',') .. ']'
end
local function save(s, uid, after)
  -- the user's aggregated status, kept so listing a set is two commands, not four per user
  if after then redis.call('HSET', P .. ':s:' .. s .. ':status', uid, after)
  else redis.call('HDEL', P .. ':s:' .. s .. ':status', uid) end
end
local function change(before, after)
  if not before and after then return 'join' end
  if before and not after then return 'leave' end
  if before ~= after then return 'update' end
  return false
end
local function size(s, list_max, small_at)
  -- The number of users present, and whether the set counts as large: above list_max it becomes
  -- large, and stays so until it shrinks to small_at (the flag is kept in Redis, so every server
  -- process agrees). No list_max (''): never large.
  local n = redis.call('HLEN', P .. ':s:' .. s .. ':status')
  local flag = P .. ':s:' .. s .. ':large'
  if list_max == '' then return n, false end
  local large = redis.call('EXISTS', flag) == 1
  if n > tonumber(list_max) then
    if not large then redis.call('SET', flag, 1) end
    large = true
  elseif large and n <= tonumber(small_at) then
    redis.call('DEL', flag)
    large = false
  end
  return n, large
end
local out = {}
local quiet = false  -- the sweep forgets many connections, then reports net changes itself
local function emit(s, uid, kind, status)
  if kind and not quiet then
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
  save(s, uid, after)
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

# ARGV: set, conn, uid, status, ttl seconds, user json, meta json ('' for none), event
_TRACK = _COMMON + """
local s, conn, uid, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
-- A socket of a deleted user may still be open for a moment (the close push is on its way,
-- or it was connecting as the user went): it must not bring their name back into Redis.
if redis.call('EXISTS', P .. ':gone:' .. uid) == 1 then return out end
local before = agg(s, uid)
redis.call('HSET', ukey(s, uid), conn, status)
redis.call('SADD', P .. ':csets:' .. conn, s)
redis.call('HSET', P .. ':cuid', conn, uid)
redis.call('ZADD', P .. ':exp', redis_now() + tonumber(ARGV[5]), conn)
redis.call('HSET', P .. ':user', uid, ARGV[6])
redis.call('HSET', P .. ':event', s, ARGV[8])
if ARGV[7] ~= '' then
  redis.call('HSET', P .. ':s:' .. s .. ':meta', conn, ARGV[7])
else
  redis.call('HDEL', P .. ':s:' .. s .. ':meta', conn)
end
local after = agg(s, uid)
save(s, uid, after)
emit(s, uid, change(before, after), after)
return out
"""

# ARGV: conn, ttl seconds -> 1 if the connection is tracked, 0 if it is gone (swept, Redis restarted)
_TOUCH = """
local k = KEYS[1] .. ':exp'
if not redis.call('ZSCORE', k, ARGV[1]) then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', k, tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[2]), ARGV[1])
return 1
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
  local after = agg(s, uid)
  save(s, uid, after)
  emit(s, uid, change(before, after), after)
end
return out
"""

# ARGV: now ('' for Redis's clock), batch size -> [number of expired connections, changes...]
_SWEEP = _COMMON + """
local now = ARGV[1]
if now == '' then now = redis_now() end
local expired = redis.call('ZRANGEBYSCORE', P .. ':exp', '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
-- Net changes per (set, user): a user whose two dead connections were online and away
-- would otherwise get an update to away and then a leave.
local before, touched = {}, {}
for _, conn in ipairs(expired) do
  local uid = redis.call('HGET', P .. ':cuid', conn)
  if uid then
    for _, s in ipairs(redis.call('SMEMBERS', P .. ':csets:' .. conn)) do
      before[s] = before[s] or {}
      if before[s][uid] == nil then
        before[s][uid] = agg(s, uid)
        table.insert(touched, {s, uid})
      end
    end
  end
end
quiet = true
for _, conn in ipairs(expired) do forget(conn) end
quiet = false
for _, pair in ipairs(touched) do
  local s, uid = pair[1], pair[2]
  local after = agg(s, uid)
  emit(s, uid, change(before[s][uid], after), after)
end
table.insert(out, 1, #expired)
return out
"""

# ARGV: uid, seconds to refuse tracking them again -> the changes (leaves)
# Finds the user's connections through the sets they are in: O(sets ever used) HEXISTS
# calls, for an operation as rare as deleting a user, rather than a reverse index that
# every track and forget would have to keep up.
_PURGE = _COMMON + """
local uid = ARGV[1]
local conns, seen, sets = {}, {}, {}
for _, s in ipairs(redis.call('HKEYS', P .. ':event')) do
  if redis.call('HEXISTS', P .. ':s:' .. s .. ':status', uid) == 1 then
    table.insert(sets, {s, agg(s, uid)})
    for _, conn in ipairs(redis.call('HKEYS', ukey(s, uid))) do
      if not seen[conn] then seen[conn] = true; table.insert(conns, conn) end
    end
  end
end
-- One leave per set, as the sweep reports net changes: not an update to away on the way out.
quiet = true
for _, conn in ipairs(conns) do forget(conn) end
quiet = false
for _, pair in ipairs(sets) do
  local after = agg(pair[1], uid)
  emit(pair[1], uid, change(pair[2], after), after)
end
redis.call('HDEL', P .. ':user', uid)
redis.call('HDEL', P .. ':lastseen', uid)
redis.call('SET', P .. ':gone:' .. uid, 1, 'EX', tonumber(ARGV[2]))
return out
"""

# ARGV: ISO time, uids... (users deleted meanwhile are skipped)
_REMEMBER = """
local P = KEYS[1]
for i = 2, #ARGV do
  if redis.call('EXISTS', P .. ':gone:' .. ARGV[i]) == 0 then redis.call('HSET', P .. ':lastseen', ARGV[i], ARGV[1]) end
end
"""

# ARGV: set, list max ('' for no max), size to shrink to before it is small again, page size
#   -> [flat status hash (everyone, or the first page when large), USER JSON per user,
#       metas JSON per user (only if the set has meta), number of users, 1 if large]
_LIST = _COMMON + """
local s = ARGV[1]
local n, large = size(s, ARGV[2], ARGV[3])
local flat
if large then
  -- The first page: HSCAN's order, which is stable while the hash does not change.
  local page, cursor = tonumber(ARGV[4]), '0'
  flat = {}
  repeat
    local r = redis.call('HSCAN', P .. ':s:' .. s .. ':status', cursor, 'COUNT', page)
    cursor = r[1]
    for _, v in ipairs(r[2]) do if #flat < 2 * page then table.insert(flat, v) end end
  until cursor == '0' or #flat >= 2 * page
else
  flat = redis.call('HGETALL', P .. ':s:' .. s .. ':status')
end
local with_meta = redis.call('EXISTS', P .. ':s:' .. s .. ':meta') == 1
local users, found = {}, {}
local step = 2000  -- uids per HMGET (Lua's unpack has a stack limit)
for first = 1, #flat, step do
  local uids = {}
  for i = first, math.min(first + step - 1, #flat), 2 do table.insert(uids, flat[i]) end
  for j, user in ipairs(redis.call('HMGET', P .. ':user', unpack(uids))) do
    table.insert(users, user or '{}')
    if with_meta then table.insert(found, metas(s, uids[j])) end
  end
end
return {flat, users, found, n, large and 1 or 0}
"""

# ARGV: set, list max, size to shrink to before it is small again -> [number of users, 1 if large]
_SIZE = _COMMON + """
local n, large = size(ARGV[1], ARGV[2], ARGV[3])
return {n, large and 1 or 0}
"""

# ARGV: set, uids... -> flat [uid, status-or-'offline', user json, metas json]
_STATES = _COMMON + """
local s = ARGV[1]
for i = 2, #ARGV do
  local uid = ARGV[i]
  table.insert(out, uid); table.insert(out, agg(s, uid) or 'offline')
  table.insert(out, redis.call('HGET', P .. ':user', uid) or '{}')
  table.insert(out, metas(s, uid))
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
    # "{p}" is a Redis Cluster hash tag: every presence key (the scripts build them from this prefix)
    # hashes to the same slot, so each script's keys live on one node and a cluster runs them.
    return key(PREFIX_PART)


def _decode(value):
    return value.decode() if isinstance(value, bytes) else value


def _changes(flat):
    flat = [_decode(v) for v in flat]
    return [
        Change(flat[i], flat[i + 1], flat[i + 2], flat[i + 3], json.loads(flat[i + 4]), flat[i + 5])
        for i in range(0, len(flat), 6)
    ]


_SHA = {}


def _sha(script):
    sha = _SHA.get(script)
    if sha is None:
        sha = _SHA[script] = hashlib.sha1(script.encode()).hexdigest()
    return sha


async def _run(script, *args):
    """EVALSHA (the script body travels once per Redis server), EVAL when Redis lost it."""
    client = get_async_redis()
    try:
        return await client.evalsha(_sha(script), 1, _prefix(), *args)
    except NoScriptError:
        return await client.eval(script, 1, _prefix(), *args)


def _run_sync(script, *args):
    """_run() for sync code (a user's deletion, after its commit)."""
    client = get_sync_redis()
    try:
        return client.evalsha(_sha(script), 1, _prefix(), *args)
    except NoScriptError:
        return client.eval(script, 1, _prefix(), *args)


def _json(value):
    return json.dumps(value, separators=(",", ":"))


async def track(set_name, conn_id, *, user, status, ttl_s, meta=None, event="presence"):
    """Add a connection to a set (or update its status and meta); returns the changes."""
    flat = await _run(_TRACK, set_name, conn_id, user["id"], status, ttl_s, _json(user),
                      _json(meta) if meta is not None else "", event)
    return _changes(flat)


async def untrack(set_name, conn_id):
    """Remove a connection from one set; returns the changes (a leave when it was the user's last)."""
    return _changes(await _run(_UNTRACK, set_name, conn_id))


async def forget(conn_id):
    """Remove a connection from every set (socket closed)."""
    return _changes(await _run(_FORGET, conn_id))


async def set_status(conn_id, status):
    """Change a connection's status in every set it is in."""
    return _changes(await _run(_SET_STATUS, conn_id, status))


async def touch(conn_id, ttl_s):
    """Push a connection's expiry forward (one ZADD XX); False if Redis no longer knows it."""
    return bool(await _run(_TOUCH, conn_id, ttl_s))


async def sweep(now=None, batch=None):
    """Forget up to `batch` connections whose expiry passed (their server died).

    Returns (number of connections expired, changes). `now` (unix seconds) is for
    tests; by default Redis's clock decides.
    """
    flat = await _run(_SWEEP, "" if now is None else repr(float(now)), batch or app_settings.SWEEP_BATCH)
    return int(flat[0]), _changes(flat[1:])


def purge_user(user_id, *, block_s):
    """Remove a deleted user from Redis: every connection of theirs, their USER record and last-seen.

    Sync (it runs after the deletion commits, from whatever deleted the user). Returns
    the leaves it caused; for `block_s` seconds the user cannot be tracked again and no
    last-seen is written for them, so a socket of theirs still open cannot bring them back.
    """
    return _changes(_run_sync(_PURGE, user_id, int(block_s)))


async def acquire_sweep_lock(token, ttl_ms):
    """True if this process may sweep now (one process at a time, across all servers)."""
    return bool(await get_async_redis().set(f"{_prefix()}:sweep-lock", token, nx=True, px=ttl_ms))


def _presence_entries(flat, users, metas):
    """PRESENCE dicts from the list script's output.

    Redis returns the stored USER JSON; it is spliced into one JSON array here, so a
    join costs one json.loads rather than one per present user, and little Redis time.
    """
    items = []
    for i, user in enumerate(users):
        if len(user) <= 2:
            continue  # no USER record (Redis lost it): the user re-appears on their next heartbeat
        extra = b',"status":"' + flat[2 * i + 1] + b'","last_seen":null'
        if metas and metas[i] != b"[]":
            extra += b',"metas":' + metas[i]
        items.append(user[:-1] + extra + b"}")
    return json.loads(b"[" + b",".join(items) + b"]")


async def list_set(set_name):
    """PRESENCE dicts (USER + status + last_seen None (+ metas)) of every user present in the set."""
    flat, users, metas, _, _ = await _run(_LIST, set_name, "", "", 0)
    return _presence_entries(flat, users, metas)


def _small_at(list_max):
    return int(list_max * app_settings.LARGE_UNTIL_FRACTION)


async def list_page(set_name, *, list_max, page):
    """(entries, number of users, large): everyone while the set is small, else the first `page` users.

    Large: above `list_max` users, until the set shrinks to LARGE_UNTIL_FRACTION of it.
    """
    flat, users, metas, count, large = await _run(_LIST, set_name, list_max, _small_at(list_max), page)
    return _presence_entries(flat, users, metas), int(count), bool(large)


async def size(set_name, *, list_max):
    """(number of users present, large) of a set, by the same rule as list_page."""
    count, large = await _run(_SIZE, set_name, list_max, _small_at(list_max))
    return int(count), bool(large)


async def states(set_name, user_ids):
    """{user id: (USER dict, "online" | "away" | "offline", metas list)} as Redis has them now."""
    if not user_ids:
        return {}
    flat = [_decode(v) for v in await _run(_STATES, set_name, *user_ids)]
    return {
        int(flat[i]): (json.loads(flat[i + 2]), flat[i + 1], json.loads(flat[i + 3]))
        for i in range(0, len(flat), 4)
    }


async def statuses(set_name, user_ids):
    """{user id: "online" | "away" | "offline"} for the given users."""
    return {uid: status for uid, (_, status, _) in (await states(set_name, user_ids)).items()}


async def remember_last_seen(user_ids, iso):
    """Cache the last-seen time of users who just left the site set."""
    if user_ids:
        await _run(_REMEMBER, iso, *user_ids)


async def last_seen(user_ids):
    """{user id: ISO} from Redis (the database keeps the same, for after a Redis restart)."""
    if not user_ids:
        return {}
    values = await get_async_redis().hmget(f"{_prefix()}:lastseen", list(user_ids))
    return {uid: _decode(v) for uid, v in zip(user_ids, values) if v is not None}

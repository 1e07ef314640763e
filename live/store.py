"""A stream's latest values and its log, in Redis.

Keys (under HUB_REDIS_PREFIX, with the stream's name as a Cluster hash tag so one script's keys share a slot):
  stream:{<name>}:latest  hash   key -> the value's JSON (what a join's snapshot is)
  stream:{<name>}:seq     string the number of the stream's last update
  stream:{<name>}:log     stream one entry per update (`s` seq, `k` key, `v` JSON), trimmed to about LOG_MAXLEN:
                                 what each server process's feed reads (live.feed)
"""

import json

from hub.errors import BadRequest
from hub.redis import get_async_redis, get_sync_redis, key
from live import app_settings

# KEYS: latest, seq, log. ARGV: key, value JSON, keys max, log maxlen. Returns the update's seq, or -1 when the
# stream holds KEYS_PER_STREAM_MAX keys already and this one is new.
_PUBLISH = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 's', seq, 'k', ARGV[1], 'v', ARGV[2])
return seq
"""


def keys_of(stream):
    tag = "{" + stream + "}"
    return key("stream", tag, "latest"), key("stream", tag, "seq"), key("stream", tag, "log")


def check_name(stream):
    if not isinstance(stream, str) or not app_settings.STREAM_NAME.match(stream):
        raise BadRequest("A stream's name is 1 to 64 of a-z, 0-9, '_', '.' and '-', starting with a letter or digit.")


def encoded_update(stream, key_name, value):
    """Check one update; return the value's JSON."""
    check_name(stream)
    if not isinstance(key_name, str) or not 0 < len(key_name) <= app_settings.KEY_MAX_LENGTH:
        raise BadRequest(f"A key is a string of 1 to {app_settings.KEY_MAX_LENGTH} characters.")
    if not isinstance(value, dict):
        raise BadRequest("A value is a JSON object (a dict).")
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise BadRequest(f"The value is not JSON: {error}.") from None
    if len(text.encode()) > app_settings.VALUE_MAX_BYTES:
        raise BadRequest(f"A value is at most {app_settings.VALUE_MAX_BYTES} bytes of JSON.")
    return text


def _result(seq, stream):
    if int(seq) < 0:
        raise BadRequest(f"Stream {stream!r} holds {app_settings.KEYS_PER_STREAM_MAX} keys already; no new ones.")
    return int(seq)


def publish(stream, key_name, value):
    """Store one update and log it for the feeds (sync); returns its seq."""
    text = encoded_update(stream, key_name, value)
    seq = get_sync_redis().eval(_PUBLISH, 3, *keys_of(stream), key_name, text, app_settings.KEYS_PER_STREAM_MAX,
                                app_settings.LOG_MAXLEN)
    return _result(seq, stream)


async def apublish(stream, key_name, value):
    """publish() for async code."""
    text = encoded_update(stream, key_name, value)
    seq = await get_async_redis().eval(_PUBLISH, 3, *keys_of(stream), key_name, text,
                                       app_settings.KEYS_PER_STREAM_MAX, app_settings.LOG_MAXLEN)
    return _result(seq, stream)


async def snapshot(stream):
    """({key: value}, seq): every key's latest value, and the number of the last update they include."""
    latest, seq_key, _ = keys_of(stream)
    async with get_async_redis().pipeline(transaction=True) as pipe:  # one MULTI: the two agree
        pipe.hgetall(latest)
        pipe.get(seq_key)
        values, seq = await pipe.execute()
    return {k.decode(): json.loads(v) for k, v in values.items()}, int(seq or 0)


async def last_entry(stream):
    """(id, seq) of the log's newest entry (("0-0", 0) for an empty log): a new feed reads after it."""
    found = await get_async_redis().xrevrange(keys_of(stream)[2], count=1)
    return (found[0][0].decode(), int(found[0][1][b"s"])) if found else ("0-0", 0)


async def entries_after(stream, entry_id, count):
    """[(entry id, seq, key, value JSON)] of the log after `entry_id`, oldest first, at most `count`."""
    found = await get_async_redis().xrange(keys_of(stream)[2], min=f"({entry_id}", count=count)
    return [(eid.decode(), int(f[b"s"]), f[b"k"].decode(), f[b"v"].decode()) for eid, f in found]

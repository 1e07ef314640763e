"""Faults to test recovery against: a server process killed, Redis connections dropped.

- `kill_server(server)`: SIGKILL a hub.testing.DaphneServer: its sockets vanish without a
  close and nothing of its state in Redis is cleaned up (as a crash or an OOM kill).
- `drop_redis_connections(kind)`: Redis closes the connections of one kind ("pubsub": every
  server's subscriber, so pushes published meanwhile are lost and sockets close 4500 to
  resume; "normal": command connections, which clients reconnect) of this settings' Redis
  database only, so runs sharing one Redis server do not disturb each other.
"""

from hub.redis import get_sync_redis


def kill_server(server):
    """SIGKILL the server process and wait for it to be gone."""
    server.kill()


def drop_redis_connections(kind="pubsub"):
    """Have Redis close every `kind` connection ("pubsub" or "normal") to this database; how many it closed."""
    if kind not in ("pubsub", "normal"):
        raise ValueError(f"kind must be 'pubsub' or 'normal', not {kind!r}")
    client = get_sync_redis()
    db = int(client.connection_pool.connection_kwargs.get("db", 0))
    me = client.client_id()
    dropped = 0
    for entry in client.client_list(_type=kind):
        if int(entry.get("db", 0)) == db and int(entry["id"]) != me:
            dropped += bool(client.client_kill_filter(_id=entry["id"]))
    return dropped

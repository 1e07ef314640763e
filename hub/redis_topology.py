"""Where Hub's Redis is: one server named by `REDIS_URL`, or a primary found through Redis Sentinel.

Every Redis user in Hub connects through what is built here: the channel layer's hosts, the
django-redis cache, and the shared clients of hub.redis (presence, rate limits, locks, socket
counts, the outbox). So a Sentinel setting reaches all of them at once.

The rule for the environment (README, "Configuration"):
- `REDIS_SENTINELS=host:port,host:port,...` with `REDIS_SENTINEL_MASTER=<name>`: the Sentinels
  say where the primary of that name is, and after a failover where it went. `REDIS_URL` then
  names only the primary's credentials and database (`redis://:password@/2`); its host and
  port are ignored. `REDIS_SENTINEL_PASSWORD` is the Sentinels' own password, if they have one.
- Otherwise `REDIS_URL` is the server (unset: the embedded one, see hub/embedded_redis.py).

Imports nothing from Django: settings.py calls it before Django is set up.
"""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# A Sentinel that does not answer is given up quickly: the next one is asked instead.
SENTINEL_TIMEOUT_SECS = 1.0


class RedisConfigError(ValueError):
    """A Redis setting that cannot work; settings.py turns it into ImproperlyConfigured."""


def parse_sentinels(value):
    """`"host:port,host:port"` (IPv6 as `[::1]:26379`) -> `[(host, port), ...]`; empty -> []."""
    sentinels = []
    for entry in filter(None, (part.strip() for part in (value or "").split(","))):
        host, sep, port = entry.rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise RedisConfigError(f"REDIS_SENTINELS: {entry!r} is not host:port")
        sentinels.append((host, int(port)))
    return sentinels


@dataclass(frozen=True)
class RedisTopology:
    url: str
    sentinels: tuple = ()
    master: str = ""
    sentinel_password: str = ""

    def __post_init__(self):
        if self.sentinels and not self.master:
            raise RedisConfigError("REDIS_SENTINELS is set: REDIS_SENTINEL_MASTER must name the primary")

    @property
    def uses_sentinel(self):
        return bool(self.sentinels)

    def primary_credentials(self):
        """The primary's username, password and database from REDIS_URL (Sentinel mode: nothing else of it is used)."""
        parts = urlsplit(self.url)
        path = parts.path.strip("/")
        if path and not path.isdigit():
            raise RedisConfigError(f"REDIS_URL: the database must be a number, not {path!r}")
        credentials = {"db": int(path or 0)}
        if parts.username:
            credentials["username"] = unquote(parts.username)
        if parts.password:
            credentials["password"] = unquote(parts.password)
        return credentials

    def sentinel_kwargs(self):
        kwargs = {"socket_timeout": SENTINEL_TIMEOUT_SECS, "socket_connect_timeout": SENTINEL_TIMEOUT_SECS}
        if self.sentinel_password:
            kwargs["password"] = self.sentinel_password
        return kwargs

    def layer_host(self, **options):
        """One channels-redis `hosts` entry (both layers read the same shape)."""
        if not self.uses_sentinel:
            return {"address": self.url, **options}
        return {"sentinels": list(self.sentinels), "master_name": self.master,
                "sentinel_kwargs": self.sentinel_kwargs(), **self.primary_credentials(), **options}

    def cache(self, key_prefix):
        """The django-redis CACHES entry. With Sentinel it reads and writes the primary only
        (django-redis's SentinelClient would read replicas, which may not have a write yet)."""
        options = {"CLIENT_CLASS": "django_redis.client.DefaultClient"}
        if not self.uses_sentinel:
            return {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": self.url, "KEY_PREFIX": key_prefix,
                    "OPTIONS": options}
        credentials = self.primary_credentials()
        options.update({"CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                        "SENTINELS": list(self.sentinels), "SENTINEL_KWARGS": self.sentinel_kwargs()})
        if "password" in credentials:
            options["PASSWORD"] = credentials["password"]
        if "username" in credentials:
            options["USERNAME"] = credentials["username"]
        return {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": f"redis://{self.master}/{credentials['db']}",
                "KEY_PREFIX": key_prefix, "OPTIONS": options}

    def sync_pool(self, *, max_connections, timeout, **connection_kwargs):
        """A redis-py blocking pool: waits `timeout` for a free connection under a burst instead of failing."""
        import redis
        from redis import sentinel

        return self._blocking_pool(redis.BlockingConnectionPool, sentinel, max_connections=max_connections,
                                   timeout=timeout, **connection_kwargs)

    def async_pool(self, *, max_connections, timeout, **connection_kwargs):
        """The same for redis.asyncio (bound to the loop that first uses it, as every async pool)."""
        from redis import asyncio as aioredis
        from redis.asyncio import sentinel

        return self._blocking_pool(aioredis.BlockingConnectionPool, sentinel, max_connections=max_connections,
                                   timeout=timeout, **connection_kwargs)

    def _blocking_pool(self, blocking_pool, sentinel, *, max_connections, timeout, **connection_kwargs):
        """`blocking_pool` on REDIS_URL, or the same pool on the Sentinels' primary (`sentinel`: redis-py's sync
        or asyncio Sentinel module)."""
        if not self.uses_sentinel:
            return blocking_pool.from_url(self.url, max_connections=max_connections, timeout=timeout,
                                          **connection_kwargs)
        # redis-py has no blocking Sentinel pool; SentinelConnectionPool passes the rest on to the blocking one.
        pool_class = type("SentinelBlockingConnectionPool", (sentinel.SentinelConnectionPool, blocking_pool), {})
        sentinels = sentinel.Sentinel(list(self.sentinels), sentinel_kwargs=self.sentinel_kwargs())
        return pool_class(self.master, sentinels, max_connections=max_connections, timeout=timeout,
                          **self.primary_credentials(), **connection_kwargs)

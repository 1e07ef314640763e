"""Loaded by the daphne of `bench soak --sqlite-cache-kib N` only (its PYTHONPATH starts here).

Sets SQLite's page cache of every database connection to N KiB (`PRAGMA cache_size=-N`;
SQLite's default is 2,000 KiB per connection). The cache lives in SQLite's own malloc calls,
which tracemalloc does not see, and fills as the database grows: a soak that grows less
with a smaller cache was filling it.
"""

import os

from django.db.backends.signals import connection_created

_KIB = int(os.environ["HUB_SQLITE_CACHE_KIB"])


def _set_cache(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{_KIB}")


connection_created.connect(_set_cache)

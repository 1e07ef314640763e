"""Settings for the test suite: hub.settings plus a private Redis when REDIS_URL is unset.

The embedded server is started here, before anything reads REDIS_URL, and exported
so the daphne processes that end-to-end tests start share it.
"""

import atexit
import os
import pathlib

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")  # the e2e servers speak plain http
# Debug is off here and in the e2e servers, so the email backend must be named.
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

if not os.environ.get("REDIS_URL"):
    from hub.embedded_redis import BASE_DIR, EmbeddedRedis, runtime_dir

    _server = EmbeddedRedis(runtime_dir(BASE_DIR, f"test-redis-{os.getpid()}")).start()
    def _stop_server():
        import shutil

        _server.stop()
        shutil.rmtree(_server.directory, ignore_errors=True)

    atexit.register(_stop_server)
    os.environ["REDIS_URL"] = _server.url
    print(f"tests: embedded Redis: {_server.description} on {_server.socket_path}")

from hub.settings import *  # noqa: E402,F401,F403

STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _remove_sqlite_side_files(name=DATABASES["default"].get("TEST", {}).get("NAME")):  # noqa: F405
    # pytest-django deletes the test database file, SQLite's WAL files stay behind.
    for suffix in ("-wal", "-shm"):
        pathlib.Path(f"{name}{suffix}").unlink(missing_ok=True)


if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    atexit.register(_remove_sqlite_side_files)

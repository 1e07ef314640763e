"""Suite-wide fixtures: real Redis (flushed per test), user and room factories, socket communicators.

Browser tests run last: Playwright's sync API leaves an event loop behind that breaks
async tests run after it in the same process (see ../shared/TESTING.md).
"""

import pytest
from channels.db import database_sync_to_async

from hub.redis import get_sync_redis
from hub.testing.checks import register_frame_check
from tests.protocol_schema import check_frame

PASSWORD = "correct-Horse-battery-9"
pytest_plugins = ["tests.browser", "hub.testing.pytest_plugin"]
register_frame_check(check_frame)  # every frame a test client reads must match docs/protocol.md's table


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_sessionfinish(session, exitstatus):
    """A passing run leaves no daphne logs behind in var/ (a failing one keeps them to read)."""
    from hub.testing.servers import LOGS

    if exitstatus == 0:
        for path in LOGS:
            path.unlink(missing_ok=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright (runs last)")
    config.addinivalue_line("markers", "e2e: starts real daphne processes")


@pytest.fixture(scope="session", autouse=True)
def _close_leftover_database_sessions(django_db_setup, django_db_blocker):
    """Let pytest-django drop the PostgreSQL test database at the end.

    Connections are kept (CONN_MAX_AGE), so worker threads of async tests still hold
    theirs when the session ends, and PostgreSQL refuses to drop a database in use.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fresh_redis():
    """Every test starts with an empty Redis database (the test server or REDIS_URL's db)."""
    get_sync_redis().flushdb()
    yield


@pytest.fixture
def make_user(django_db_blocker):
    """Factory: make_user("alice", is_staff=True) -> a saved user with PASSWORD."""
    from django.contrib.auth import get_user_model

    def _make(username, *, email=None, password=PASSWORD, **fields):
        with django_db_blocker.unblock():
            return get_user_model().objects.create_user(
                username=username, email=email or f"{username}@example.com", password=password, **fields
            )

    return _make


@pytest.fixture
def amake_user(make_user):
    """Async form of make_user for async tests."""
    return database_sync_to_async(make_user)


@pytest.fixture
def make_room(django_db_blocker):
    """Factory: make_room("lounge", kind="private", members=[user, ...]) -> a chat Room."""
    from chat.models import Membership, Room

    def _make(slug, *, kind="public", members=(), name=None):
        with django_db_blocker.unblock():
            room = Room.objects.create(slug=slug, name=name or slug.title(), kind=kind)
            Membership.objects.bulk_create([Membership(room=room, user=user) for user in members])
            return room

    return _make


@pytest.fixture
def amake_room(make_room):
    return database_sync_to_async(make_room)


@pytest.fixture
def connect(hub_connect):
    """Factory: `await connect(user)` -> a connected HubCommunicator that already read `hello` (hub.testing)."""
    return hub_connect

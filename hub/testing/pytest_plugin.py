"""pytest fixtures of Hub's test kit: `pytest_plugins = ["hub.testing.pytest_plugin"]` in a conftest.py.

- `hub_connect`: `await hub_connect(user)` -> an in-process HubCommunicator (your ASGI_APPLICATION,
  the real channel layer and Redis) that already read `hello`; closed after the test.
- `hub_server`: a real daphne process (hub.testing.DaphneServer) for this test, sharing its
  database (needs `django_db(transaction=True)`) and Redis; stopped after it.
"""

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string

from hub.testing.communicator import SITE_ORIGIN, HubCommunicator, close_async_clients, handshake_headers, \
    session_cookie_for
from hub.testing.servers import DaphneServer


@pytest.fixture
async def hub_connect():
    """Factory: `await hub_connect(user, origin=..., read_hello=True)` -> a connected HubCommunicator."""
    application = import_string(settings.ASGI_APPLICATION)
    opened = []

    async def _connect(user, *, origin=SITE_ORIGIN, read_hello=True):
        cookie = await database_sync_to_async(session_cookie_for)(user)
        comm = HubCommunicator(application, "/ws/", headers=handshake_headers(cookie, origin=origin))
        connected, _ = await comm.connect(timeout=5)
        assert connected, "the socket was refused"
        if read_hello:
            comm.hello = await comm.receive_json_from(timeout=5)
            assert comm.hello["event"] == "hello"
        opened.append(comm)
        return comm

    yield _connect
    for comm in opened:
        try:
            await comm.disconnect(timeout=5)
        except BaseException:  # already closed by the test (CancelledError is a BaseException)
            pass
    await close_async_clients()


@pytest.fixture
def hub_server(transactional_db):
    """A real daphne process on a free loopback port, for one test."""
    with DaphneServer() as server:
        yield server

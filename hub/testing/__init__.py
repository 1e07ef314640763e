"""Hub's test kit for the apps built on it (docs/testing.md), used by Hub's own suite.

- `HubCommunicator`: an in-process socket that speaks the protocol: `ok`/`error`/`request`
  (a reply by ref), `expect` (the next push of a topic and event), `nothing` (no frame for a
  while), `expect_close`; the `hub_connect` fixture opens one as a user.
- `DaphneServer`, `Browserless`, `ws_connect`/`ws_request`/`ws_expect`, `run_manage`: real
  daphne processes, a login over real HTTP, raw sockets; the `hub_server` fixture.
- `kill_server`, `drop_redis_connections`: faults.
- `verify_resume`, `StreamModel`: the state a client builds from a join plus every push it
  received (and from a resume) equals the state of a fresh join, over random actions.

Fixtures come from `pytest_plugins = ["hub.testing.pytest_plugin"]`.
"""

from hub.testing.checks import register_frame_check
from hub.testing.communicator import HubCommunicator, handshake_headers, session_cookie_for
from hub.testing.faults import drop_redis_connections, kill_server
from hub.testing.resume import StreamModel, verify_resume
from hub.testing.servers import Browserless, DaphneServer, run_manage, ws_connect, ws_expect, ws_request

__all__ = [
    "Browserless", "DaphneServer", "HubCommunicator", "StreamModel", "drop_redis_connections", "handshake_headers",
    "kill_server", "register_frame_check", "run_manage", "session_cookie_for", "verify_resume", "ws_connect",
    "ws_expect", "ws_request",
]

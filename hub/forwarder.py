"""A tiny round-robin TCP forwarder, for trying several daphne processes locally (`dev.py run --processes N`).

Each connection accepted on the listening address goes to the next backend in turn (a backend
that refuses, say one restarting, is skipped), and bytes are copied both ways until either side
closes: HTTP and WebSocket upgrades pass unchanged, `Host` included, so the pages and the
socket's Origin check behave as they do behind a real proxy. Not for production: no TLS, no
`X-Forwarded-*` headers, no health checks; docs/operations.md has the nginx configuration.
Standard library only.
"""

import asyncio
import itertools
import logging

logger = logging.getLogger(__name__)
CHUNK = 65536


async def _pipe(reader, writer):
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # half-close: the other direction may still be finishing
    except (ConnectionError, OSError):
        writer.close()


async def forward(listen_host, listen_port, backends):
    """Serve until cancelled; returns the asyncio server once listening (await `serve_forever()` on it)."""
    turn = itertools.cycle(backends)

    async def handle(client_reader, client_writer):
        upstream = None
        for _ in range(len(backends)):
            host, port = next(turn)
            try:
                upstream = await asyncio.open_connection(host, port)
                break
            except OSError:
                continue
        if upstream is None:
            logger.warning("no backend answers; closing a connection")
            client_writer.close()
            return
        up_reader, up_writer = upstream
        try:
            await asyncio.gather(_pipe(client_reader, up_writer), _pipe(up_reader, client_writer))
        finally:
            up_writer.close()
            client_writer.close()

    return await asyncio.start_server(handle, listen_host, listen_port)

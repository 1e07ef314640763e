"""A TCP proxy a test can cut: `cut()` refuses new connections and drops the open ones (the server behind it
looks gone, as after a crash or a network split), `restore()` serves again on the same port.

It runs on an event loop of its own in a thread, so it keeps serving while the test blocks (starting a
daphne process, waiting on a page).
"""

import asyncio
import threading

from hub.forwarder import CHUNK


class CuttableProxy:
    def __init__(self, listen_port, backend_host, backend_port):
        self.listen_port, self.backend = listen_port, (backend_host, backend_port)
        self.server = None
        self.writers = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="cuttable-proxy", daemon=True)

    def start(self):
        self.thread.start()
        return self.restore()

    def restore(self):
        self._run(self._listen())
        return self

    def cut(self):
        self._run(self._cut())

    def stop(self):
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    async def _listen(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port)

    async def _cut(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _handle(self, client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.backend)
        except OSError:
            client_writer.transport.abort()
            return
        self.writers.update((client_writer, up_writer))
        try:
            await asyncio.gather(self._pipe(client_reader, up_writer), self._pipe(up_reader, client_writer))
        finally:
            for writer in (client_writer, up_writer):
                self.writers.discard(writer)
                writer.transport.abort()

    @staticmethod
    async def _pipe(reader, writer):
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

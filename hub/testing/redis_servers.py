"""Groups of real Redis servers for tests, all the embedded binary (hub/embedded_redis.py finds it) on loopback
ports: the base of hub.testing.sentinel's Sentinel setup and hub.testing.cluster's Redis Cluster."""

import signal
import subprocess
import time
from pathlib import Path

from hub.embedded_redis import find_server_binary
from hub.testing.servers import free_port


def command(port, *args, timeout_s=2.0):
    """One command to the server on `port`; the reply as redis-py parses it (INFO: a dict)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                         decode_responses=True)
    try:
        return client.execute_command(*args)
    finally:
        client.close()


class ServerGroup:
    """Starts named server processes in `directory` (one folder and log each); `with` stops them all."""

    def __init__(self, directory):
        self.binary, reason = find_server_binary()
        if self.binary is None:
            raise RuntimeError(reason)
        self.directory = Path(directory)
        self.processes = {}

    def start(self, timeout_s=30):
        raise NotImplementedError

    def _start(self, name, args):
        work = self.directory / name
        work.mkdir(parents=True, exist_ok=True)
        log = open(work / "log", "w")
        self.processes[name] = (subprocess.Popen([self.binary, *args], cwd=work, stdout=log, stderr=subprocess.STDOUT),
                                log)

    def _server(self, name, port, *extra):
        self._start(name, ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--dir", str(self.directory / name), *extra])

    def kill(self, name):
        process, _ = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self):
        for process, log in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, log in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()

    def _until(self, condition, deadline, what):
        last = None
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except Exception as error:  # not up yet
                last = error
            time.sleep(0.1)
        logs = {name: (self.directory / name / "log").read_text()[-2000:] for name in self.processes
                if (self.directory / name / "log").exists()}
        raise TimeoutError(f"waited in vain until {what} (last error: {last!r}); logs: {logs}")

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


class PlainServers(ServerGroup):
    """`count` independent Redis servers (e.g. the channel layer's shards); `urls` for HUB_LAYER_REDIS_URLS."""

    def __init__(self, directory, count=2):
        super().__init__(directory)
        self.ports = [free_port() for _ in range(count)]

    @property
    def urls(self):
        return [f"redis://127.0.0.1:{port}/0" for port in self.ports]

    def start(self, timeout_s=30):
        deadline = time.monotonic() + timeout_s
        for n, port in enumerate(self.ports):
            self._server(f"server{n}", port)
        for port in self.ports:
            self._until(lambda port=port: command(port, "PING"), deadline, f"the server on {port} answers")
        return self

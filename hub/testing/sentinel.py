"""A real Redis Sentinel setup for tests: a primary, a replica and three Sentinels on loopback ports.

All five are the embedded server binary (hub/embedded_redis.py finds it; valkey-server runs as a
Sentinel with `--sentinel`). `with SentinelSetup(tmp_dir) as setup:` starts them and waits until
the replica is in sync and every Sentinel knows the replica and the two other Sentinels, so a
failover can happen at once; `setup.kill_primary()` SIGKILLs the primary and
`setup.wait_for_failover()` returns the promoted replica's address once the Sentinels name it.
"""

import signal
import subprocess
import time
from pathlib import Path

from hub.embedded_redis import find_server_binary
from hub.testing.servers import free_port

MASTER_NAME = "hubprimary"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


def command(port, *args, timeout_s=2.0):
    """One command to the server on `port`; the reply as redis-py parses it (INFO: a dict)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                         decode_responses=True)
    try:
        return client.execute_command(*args)
    finally:
        client.close()


class SentinelSetup:
    def __init__(self, directory):
        self.binary, reason = find_server_binary()
        if self.binary is None:
            raise RuntimeError(reason)
        self.directory = Path(directory)
        self.primary_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes = {}

    @property
    def sentinels(self):
        """The REDIS_SENTINELS value for these Sentinels."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def _start(self, name, args):
        work = self.directory / name
        work.mkdir(parents=True, exist_ok=True)
        log = open(work / "log", "w")
        self.processes[name] = (subprocess.Popen([self.binary, *args], cwd=work, stdout=log, stderr=subprocess.STDOUT),
                                log)

    def _server(self, name, port, *extra):
        self._start(name, ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--dir", str(self.directory / name), *extra])

    def start(self, timeout_s=30):
        deadline = time.monotonic() + timeout_s
        self._server("primary", self.primary_port)
        self._until(lambda: command(self.primary_port, "PING"), deadline, "the primary answers")
        self._server("replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.primary_port))
        self._until(lambda: command(self.replica_port, "INFO", "replication").get("master_link_status") == "up", deadline,
                    "the replica is in sync")
        for n, port in enumerate(self.sentinel_ports):
            config = self.directory / f"sentinel{n}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n")
            self._start(f"sentinel{n}", [str(config), "--sentinel"])
        self._until(self._sentinels_ready, deadline, "every Sentinel knows the replica and the other Sentinels")
        return self

    def _sentinels_ready(self):
        for port in self.sentinel_ports:
            state = _pairs(command(port, "SENTINEL", "MASTER", MASTER_NAME))
            if int(state.get("num-slaves", 0)) < 1 or int(state.get("num-other-sentinels", 0)) < 2:
                return False
        return True

    def primary_address(self, sentinel_port=None):
        host, port = command(sentinel_port or self.sentinel_ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                             MASTER_NAME)
        return host, int(port)

    def kill_primary(self):
        process, _ = self.processes["primary"]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def wait_for_failover(self, timeout_s=60):
        """The address every Sentinel names once the replica took over (after kill_primary)."""
        deadline = time.monotonic() + timeout_s
        promoted = ("127.0.0.1", self.replica_port)
        self._until(lambda: all(self.primary_address(port) == promoted for port in self.sentinel_ports)
                    and command(self.replica_port, "INFO", "replication").get("role") == "master", deadline,
                    "the Sentinels promoted the replica")
        return promoted

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


def _pairs(flat):
    return dict(zip(flat[0::2], flat[1::2])) if isinstance(flat, list) else dict(flat)

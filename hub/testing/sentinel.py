"""A real Redis Sentinel setup for tests: a primary, a replica and three Sentinels on loopback ports.

All five are the embedded server binary (hub/embedded_redis.py finds it; valkey-server runs as a
Sentinel with `--sentinel`). `with SentinelSetup(tmp_dir) as setup:` starts them and waits until
the replica is in sync and every Sentinel knows the replica and the two other Sentinels, so a
failover can happen at once; `setup.kill_primary()` SIGKILLs the primary and
`setup.wait_for_failover()` returns the promoted replica's address once the Sentinels name it.
"""

import time

from hub.testing.redis_servers import ServerGroup, command, free_port

__all__ = ["MASTER_NAME", "SentinelSetup", "command"]
MASTER_NAME = "hubprimary"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


class SentinelSetup(ServerGroup):
    def __init__(self, directory):
        super().__init__(directory)
        self.primary_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]

    @property
    def sentinels(self):
        """The REDIS_SENTINELS value for these Sentinels."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

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
        self.kill("primary")

    def wait_for_failover(self, timeout_s=60):
        """The address every Sentinel names once the replica took over (after kill_primary)."""
        deadline = time.monotonic() + timeout_s
        promoted = ("127.0.0.1", self.replica_port)
        self._until(lambda: all(self.primary_address(port) == promoted for port in self.sentinel_ports)
                    and command(self.replica_port, "INFO", "replication").get("role") == "master", deadline,
                    "the Sentinels promoted the replica")
        return promoted


def _pairs(flat):
    return dict(zip(flat[0::2], flat[1::2])) if isinstance(flat, list) else dict(flat)

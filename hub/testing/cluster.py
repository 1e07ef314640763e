"""A real Redis Cluster for tests: three primaries on loopback ports, the embedded binary in cluster mode.

`with ClusterSetup(tmp_dir) as cluster:` starts the three servers, gives each a third of the 16,384
hash slots, introduces them to one another and waits until every node reports the cluster ok;
`cluster.startup_nodes()` is what redis-py's cluster client starts from.
"""

import time

from hub.testing.redis_servers import ServerGroup, command, free_port

SLOTS = 16384


class ClusterSetup(ServerGroup):
    def __init__(self, directory, primaries=3):
        super().__init__(directory)
        self.ports = [free_port() for _ in range(primaries)]
        self.bus_ports = [free_port() for _ in range(primaries)]  # not port + 10000: that may be over 65535

    def start(self, timeout_s=30):
        deadline = time.monotonic() + timeout_s
        for n, port in enumerate(self.ports):
            self._server(f"node{n}", port, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                         "--cluster-port", str(self.bus_ports[n]), "--cluster-node-timeout", "2000")
        for port in self.ports:
            self._until(lambda port=port: command(port, "PING"), deadline, f"node {port} answers")
        share = SLOTS // len(self.ports)
        for n, port in enumerate(self.ports):
            last = SLOTS - 1 if n == len(self.ports) - 1 else (n + 1) * share - 1
            command(port, "CLUSTER", "ADDSLOTSRANGE", n * share, last)
        for port in self.ports[1:]:
            command(port, "CLUSTER", "MEET", "127.0.0.1", self.ports[0], self.bus_ports[0])
        self._until(self._ready, deadline, "every node reports cluster_state:ok and knows the others")
        return self

    def _ready(self):
        for port in self.ports:
            info = cluster_info(port)
            if info.get("cluster_state") != "ok" or int(info.get("cluster_known_nodes", 0)) != len(self.ports):
                return False
        return True

    def startup_nodes(self):
        from redis.cluster import ClusterNode

        return [ClusterNode("127.0.0.1", port) for port in self.ports]


def cluster_info(port):
    """CLUSTER INFO of one node as a dict (redis-py returns its text as it came)."""
    reply = command(port, "CLUSTER", "INFO")
    if isinstance(reply, dict):
        return reply
    return dict(line.split(":", 1) for line in reply.splitlines() if ":" in line)

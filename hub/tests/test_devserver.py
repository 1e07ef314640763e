"""`python3 dev.py run` from a copy of the project: it serves, and stopping it stops everything it started."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from hub.embedded_redis import BASE_DIR
from hub.testing.servers import free_port

NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", ".hypothesis", ".pytest_cache",
                                    "test-results", "node_modules")


@pytest.fixture
def project_copy():
    """The working tree in a short temporary path (unix socket limit), sharing this .venv."""
    with tempfile.TemporaryDirectory(prefix="hubd") as name:
        root = Path(name) / "p"
        shutil.copytree(BASE_DIR, root, ignore=NOT_COPIED)
        (root / ".venv").symlink_to(BASE_DIR / ".venv")
        yield root


def wait_until_healthy(url, process, deadline_s=120):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "dev.py run exited before serving"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)  # polling a server that is still starting: nothing to await
    raise AssertionError(f"{url} did not answer 200 within {deadline_s} s")


def server_pids(root):
    """Processes still running from the copy: the embedded Redis and the runserver."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(root) in cmdline and "dev.py" not in cmdline:
                found.append((int(entry.name), cmdline))
    return found


def dev_py_run(root, *args, **popen_options):
    """`python3 dev.py run *args` in the copy, as a newcomer runs it: without this test run's Redis,
    database or settings, output captured, in its own process group."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    return subprocess.Popen([sys.executable, "dev.py", "run", *args], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, **popen_options)


def kill_what_is_left(process, root):
    """Kill dev.py if it still runs and every server it left; return those servers (there should be none).

    A failed run must not leave servers behind for the next test."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    leftovers = server_pids(root)
    for pid, _ in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return leftovers


@pytest.mark.skipif(not Path("/proc").exists(), reason="lists processes through /proc")
@pytest.mark.parametrize("how", ["ctrl-c in a terminal", "kill -INT dev.py", "kill -TERM dev.py",
                                 "kill -INT dev.py started with nohup &"])
def test_stopping_dev_py_run_stops_the_server_and_the_embedded_redis(project_copy, how):
    port = free_port()
    # A shell's background job (`nohup ... &`) starts with SIGINT ignored.
    background = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if "nohup" in how else None
    process = dev_py_run(project_copy, f"127.0.0.1:{port}", preexec_fn=background)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/hub/app.js", timeout=5) as response:
            # WhiteNoise's header: static files come through WhiteNoise, as in production.
            assert response.headers["Access-Control-Allow-Origin"] == "*"
        running = " | ".join(cmdline for _, cmdline in server_pids(project_copy))
        assert "redis.sock" in running and "runserver" in running, running
        if how == "ctrl-c in a terminal":
            os.killpg(process.pid, signal.SIGINT)  # the terminal signals its foreground process group
        elif how.startswith("kill -INT"):
            process.send_signal(signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        leftovers = kill_what_is_left(process, project_copy)
    assert not leftovers, leftovers
    assert b"Traceback" not in output, output.decode(errors="replace")
    assert b"embedded Redis stopped" in output, output.decode(errors="replace")
    assert not list((project_copy / "var").glob("redis/redis.sock"))


@pytest.mark.skipif(not Path("/proc").exists(), reason="lists processes through /proc")
def test_dev_py_run_with_processes_serves_through_the_forwarder_and_stops_them_all(project_copy):
    import websockets.sync.client

    port = free_port()
    process = dev_py_run(project_copy, "--processes", "2", f"127.0.0.1:{port}")
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", process)
        running = [cmdline for _, cmdline in server_pids(project_copy)]
        assert sum("daphne" in cmdline for cmdline in running) == 2, running
        for _ in range(4):  # one connection each: the forwarder takes them to both processes in turn
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?probe", timeout=5) as response:
                assert response.status == 200
        # A WebSocket upgrade passes through too: without a login the server refuses it (403).
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            websockets.sync.client.connect(f"ws://127.0.0.1:{port}/ws/", origin=f"http://127.0.0.1:{port}",
                                           open_timeout=10)
        assert refused.value.response.status_code == 403
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        leftovers = kill_what_is_left(process, project_copy)
    assert not leftovers, leftovers
    text = output.decode(errors="replace")
    served_by = {line.split(" | ", 1)[0] for line in text.splitlines() if "/healthz?probe" in line}
    assert len(served_by) == 2, text  # both processes answered probes
    assert "Traceback" not in text, text
    assert "embedded Redis stopped" in text, text

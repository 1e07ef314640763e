"""The private server dev.py and the suite start: stale files from killed runs, no takeover of a live one."""

import subprocess
import sys

import pytest
import redis

from hub.embedded_redis import EmbeddedRedis, find_server_binary


@pytest.fixture
def directory(tmp_path_factory):
    # Unix socket paths must stay short: tmp_path can be long.
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hubr") as name:
        yield name


def test_binary_is_found_and_named():
    path, description = find_server_binary()
    assert path, description
    assert "server" in description


def test_start_answers_and_stop_cleans_up(directory):
    server = EmbeddedRedis(directory).start()
    try:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
    finally:
        server.stop()
    assert not server.socket_path.exists() and not server.pid_path.exists()


def test_stale_socket_and_pid_file_of_a_killed_run_do_not_stop_the_next_start(directory):
    first = EmbeddedRedis(directory).start()
    first.process.kill()  # SIGKILL: socket and pid file stay behind
    first.process.wait()
    assert first.socket_path.exists() and first.pid_path.exists()
    second = EmbeddedRedis(directory).start()
    try:
        assert redis.Redis.from_url(second.url).ping()
    finally:
        second.stop()


def test_a_pid_file_naming_some_other_live_process_is_ignored(directory):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        server = EmbeddedRedis(directory)
        server.directory.mkdir(exist_ok=True)
        server.pid_path.write_text(str(other.pid))
        server.socket_path.write_text("not a socket")
        server.start()
        server.stop()
        assert other.poll() is None, "an unrelated process was signalled"
    finally:
        other.kill()
        other.wait()


def test_a_live_server_is_not_taken_over(directory):
    first = EmbeddedRedis(directory).start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            EmbeddedRedis(directory).start()
        assert redis.Redis.from_url(first.url).ping()
    finally:
        first.stop()


def test_dev_py_help_needs_only_the_standard_library():
    result = subprocess.run([sys.executable, "-I", "dev.py", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "dev.py run" in result.stdout and "dev.py test" in result.stdout

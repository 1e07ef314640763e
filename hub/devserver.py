"""`python3 dev.py run`: the embedded Redis (when REDIS_URL is unset), migrate, then the server.

Runs inside .venv. The Redis-compatible server lives exactly as long as this process.
"""

import os
import signal
import subprocess
import sys

from hub.embedded_redis import BASE_DIR, EmbeddedRedis, runtime_dir

DEFAULT_ADDRESS = "127.0.0.1:8000"


def main(args):
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
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if embedded is not None:
            embedded.stop()
            print("dev.py: embedded Redis stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

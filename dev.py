#!/usr/bin/env python3
"""Hub's two commands: `python3 dev.py run` (the app) and `python3 dev.py test` (the suite).

Standard library only: it creates `.venv`, installs the requirements when they
change, then hands over to the project's own code inside that environment.
"""

import hashlib
import os
import platform
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 11)
DEV_SECRET_KEY = "dev-insecure-key-only-for-python3-dev.py-run"

USAGE = """usage: python3 dev.py run [manage.py runserver args]   run the app at http://127.0.0.1:8000
       python3 dev.py test [pytest args]             run the whole test suite
       python3 dev.py manage COMMAND [args]          run a manage.py command in the venv"""


def fail(message):
    print(f"dev.py: {message}", file=sys.stderr)
    sys.exit(2)


def venv_python():
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def install_hint(package):
    """Say how to install a missing system package on the common platforms."""
    if sys.platform == "darwin":
        return f"install Python from python.org or `brew install python@3.11` ({package} ships with it)"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (
        f"install it with your package manager, e.g. `sudo apt-get install python{version}-venv` "
        f"(Debian/Ubuntu) or `sudo dnf install python3` (Fedora)"
    )


def check_python():
    if sys.version_info < MIN_PYTHON:
        fail(f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; this is {platform.python_version()}.")
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError:
        fail("the Python modules `venv`/`ensurepip` are missing: " + install_hint("venv"))


def requirements_digest(req_file):
    """Hash every requirements file the given one pulls in, so an edit triggers a reinstall."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(ROOT.glob("requirements*.txt")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def ensure_venv(req_file):
    check_python()
    python = venv_python()
    if not python.exists():
        print("dev.py: creating .venv ...", flush=True)
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if result.returncode != 0 or not python.exists():
            fail("could not create .venv: " + install_hint("venv"))
    stamp = VENV / f".{req_file}.sha256"
    wanted = requirements_digest(req_file)
    if not stamp.exists() or stamp.read_text().strip() != wanted:
        print(f"dev.py: installing {req_file} into .venv ...", flush=True)
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(ROOT / req_file)]
        if subprocess.run(cmd).returncode != 0:
            fail(
                f"pip could not install {req_file}. Check the network, then run again. "
                "A compiler error means a C toolchain is missing: " + install_hint("gcc and the Python headers")
            )
        stamp.write_text(wanted)
    return python


def run_in_venv(python, args, env, pass_interrupt_on=False):
    child = subprocess.Popen([str(python), *args], cwd=ROOT, env=env)
    # Pass a SIGTERM on so the child stops its servers (embedded Redis, daphne) cleanly.
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            # A terminal's Ctrl-C reaches the child too; an interrupt sent to this process
            # alone (kill -INT) does not, so the dev server, which stops once whatever
            # number of signals it gets, is told as well. pytest handles Ctrl-C itself.
            if pass_interrupt_on and child.poll() is None:
                child.send_signal(signal.SIGINT)


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if command == "run":
        # Started in the background (`nohup ... &`), Python inherits an ignored SIGINT; take it
        # back, so `kill -INT` stops the server as Ctrl-C would.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        python = ensure_venv("requirements.txt")
        env.setdefault("DJANGO_DEBUG", "1")
        env.setdefault("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
        return run_in_venv(python, ["-m", "hub.devserver", *rest], env, pass_interrupt_on=True)
    if command == "test":
        python = ensure_venv("requirements-dev.txt")
        return run_in_venv(python, ["-m", "pytest", *rest], env)
    if command == "manage":
        python = ensure_venv("requirements.txt")
        env.setdefault("DJANGO_DEBUG", "1")
        env.setdefault("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
        return run_in_venv(python, ["manage.py", *rest], env)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

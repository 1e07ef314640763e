"""Run one bench scenario: `python -m bench.run <scenario> [options]` (see --help).

Scenarios live in bench/<scenario>.py with `add_arguments(parser)` and `async def main(args)`.
Each starts its own private stack (embedded Redis, fresh SQLite, daphne) on 127.0.0.1.
"""

import argparse
import asyncio
import importlib
import os
import sys
from pathlib import Path

SCENARIOS = ("presence", "notify", "chat", "slowread", "flood", "soak", "writes", "idle", "stream")


def main(argv=None):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="scenario", required=True)
    for name in SCENARIOS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ImportError as exc:
            print(f"(scenario {name} unavailable: {exc})", file=sys.stderr)
            continue
        scenario = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        from bench.common import add_common_arguments

        add_common_arguments(scenario)
        module.add_arguments(scenario)
        scenario.set_defaults(module=module)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    # The bench is a client: it writes its users and sessions with the ORM from its event loop.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return asyncio.run(args.module.main(args)) or 0


if __name__ == "__main__":
    sys.exit(main())

"""What a bench's daphne allocates: tracemalloc snapshots on demand, compared by where allocated.

`env = trace_env()` goes into the Stack's environment (daphne then loads
bench/tracemalloc_hook/sitecustomize.py, which traces from the start and dumps a snapshot on
SIGUSR1); `await snapshot(stack, n, settle_s)` asks for one and waits for the file;
`grew(first, last)` prints what grew between two. Tracing slows daphne down: for finding
where memory goes, not for figures.
"""

import asyncio
import os
import signal
from pathlib import Path

TRACE_DIR = Path(__file__).resolve().parent.parent / "var" / "bench" / "tracemalloc"
HOOK = Path(__file__).resolve().parent / "tracemalloc_hook"


def trace_env():
    import shutil

    shutil.rmtree(TRACE_DIR, ignore_errors=True)
    TRACE_DIR.mkdir(parents=True)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(HOOK), os.environ.get("PYTHONPATH")])),
            "HUB_TRACEMALLOC_DIR": str(TRACE_DIR)}


async def snapshot(stack, n, settle_s=0.0):
    """Have daphne dump its allocations (SIGUSR1) after `settle_s`; wait for the file."""
    await asyncio.sleep(settle_s)
    stack.process.send_signal(signal.SIGUSR1)
    path = TRACE_DIR / f"snapshot-{n}.pickle"
    for _ in range(600):
        if path.exists():
            await asyncio.sleep(1)  # written in one go, but give it a moment to finish
            return path
        await asyncio.sleep(0.1)
    raise RuntimeError("daphne wrote no tracemalloc snapshot in 60 s")


def grew(first, last, *, top=15, key="traceback", per=None):
    """Print the `top` allocation sites that grew most between two snapshots (per `per` units if given)."""
    import tracemalloc

    before, after = tracemalloc.Snapshot.load(first), tracemalloc.Snapshot.load(last)
    stats = after.compare_to(before, key)
    total = sum(stat.size_diff for stat in stats)
    unit = f", {total / 1024 / per:.2f} KiB per socket" if per else ""
    print(f"\nWhat grew in daphne between {first.name} and {last.name}: {total / 1024:+.1f} KiB traced{unit}")
    for stat in stats[:top]:
        share = f" ({stat.size_diff / 1024 / per:.2f} KiB per socket)" if per else ""
        print(f"\n{stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks{share}, allocated at:")
        for line in stat.traceback.format()[-8:]:
            print("   ", line)

"""Loaded by the daphne of `bench soak --tracemalloc` only (its PYTHONPATH starts here).

Traces allocations from the start (10 frames each) and, on SIGUSR1, writes a snapshot to
$HUB_TRACEMALLOC_DIR/snapshot-<n>.pickle for the bench to compare.
"""

import os
import signal
import tracemalloc

tracemalloc.start(10)
_taken = [0]


def _dump(signum, frame):
    _taken[0] += 1
    snapshot = tracemalloc.take_snapshot().filter_traces([
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    ])
    snapshot.dump(os.path.join(os.environ["HUB_TRACEMALLOC_DIR"], f"snapshot-{_taken[0]}.pickle"))


signal.signal(signal.SIGUSR1, _dump)

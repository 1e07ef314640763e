"""glibc's malloc, tuned for a long-lived server process: a fixed mmap threshold.

Why: an hour of connection churn grew daphne's RSS steadily (docs/performance.md, "Soak")
while nothing of a closed socket stayed alive (tracemalloc and heaptrack both flat): glibc's
main heap fragmented. glibc serves blocks from 128 KiB up with mmap, but raises that
threshold every time such a block is freed (up to 32 MiB), so later large blocks (frames,
join replies, query results) come from the main heap and leave holes among long-lived
small ones. Fixing the threshold (`mallopt(M_MMAP_THRESHOLD)`, which also stops the raising)
sends them back to mmap, whose pages go back to the kernel on free. Measured side by side
(`bench soak --allocator glibc-dynamic` against the default), the creep went from about 0.13
to about 0.05 KiB per connection cycle.

Only glibc has mallopt; elsewhere (musl, macOS) this does nothing.
"""

import ctypes
import ctypes.util
import logging
import platform

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def tune(mmap_threshold):
    """Fix glibc's mmap threshold at `mmap_threshold` bytes (and trim from twice it); False if not glibc or 0."""
    if not mmap_threshold or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not (libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold) and libc.mallopt(M_TRIM_THRESHOLD, 2 * mmap_threshold)):
        logger.warning("glibc refused mallopt(M_MMAP_THRESHOLD, %d); malloc left as it was", mmap_threshold)
        return False
    return True

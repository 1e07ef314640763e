"""Loaded by the daphne of `bench soak --allocator malloc-trim` only (its PYTHONPATH starts here).

With PYTHONMALLOC=malloc every Python object comes from glibc's malloc; a thread here hands
glibc's free memory back to the kernel (`malloc_trim(0)`) every HUB_MALLOC_TRIM_SECS. If the
server's RSS then stays flat where it otherwise creeps, the creep was memory the allocator
held after it was freed (fragmentation), not state kept per connection.
"""

import ctypes
import os
import threading
import time

_libc = ctypes.CDLL("libc.so.6")
_every = float(os.environ.get("HUB_MALLOC_TRIM_SECS", "2"))


def _trim_forever():
    while True:
        time.sleep(_every)
        _libc.malloc_trim(0)


threading.Thread(target=_trim_forever, name="malloc-trim", daemon=True).start()

"""hub.malloc_tuning in a fresh interpreter: with the threshold fixed, a large block is mmapped again.

glibc raises its mmap threshold when an mmapped block is freed; a server that has freed a big
reply then serves later large blocks from the main heap (where they fragment it). The child
process frees a 1 MiB block first, as a server would have, then allocates 200 KB and reports
whether that created or grew a mapping outside the main heap.
"""

import platform
import subprocess
import sys

import pytest
from django.conf import settings

CHILD = r"""
import ctypes, sys
from hub import malloc_tuning

def mappings():
    with open("/proc/self/maps") as maps:
        return {line.split()[0] for line in maps if "[heap]" not in line}

tuned = malloc_tuning.tune(int(sys.argv[1]))
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(1 << 20))
before = mappings()
block = libc.malloc(200_000)
print(tuned, bool(mappings() - before))
"""

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


def child(threshold):
    out = subprocess.run([sys.executable, "-c", CHILD, str(threshold)], cwd=settings.BASE_DIR,
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    return out == ["True", "True"], out


def test_a_fixed_threshold_sends_large_blocks_to_mmap_even_after_a_big_free():
    assert child(65536) == (True, ["True", "True"])


def test_without_it_glibc_serves_them_from_the_heap():
    assert child(0) == (False, ["False", "False"])

"""Probe: what taking fresh memory costs this machine, apart from any night.

    python bench/fresh_pages.py [--mb 620] [--runs 3]

Maps `--mb` of anonymous memory in a fresh child process and has every page faulted in, four
ways: written a byte a page (as a night's allocations fault them), populated at once by
`madvise(MADV_POPULATE_WRITE)`, by `mmap(MAP_POPULATE)`, and on transparent huge pages
(`MADV_HUGEPAGE`, then a byte a page). Prints each run's wall time, kernel time and faults. A
night faults in about 620 MB (docs/PERFORMANCE.md): where this costs as much as the scan
floor, the kernel's share of a night is the machine's, not the code's.
"""

import argparse
import ctypes
import mmap
import resource
import subprocess
import sys
import time

_MADV_HUGEPAGE, _MADV_POPULATE_WRITE = 14, 23  # linux/mman.h
WAYS = ("touch", "madvise", "populate", "huge")


def fault_in(way: str, size: int) -> tuple[float, float, int]:
    """Fault in `size` bytes one `way`: (wall, kernel seconds, page faults)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
    if way == "populate":
        flags |= mmap.MAP_POPULATE
    memory = mmap.mmap(-1, size, flags=flags)
    view = memoryview(memory)
    address = ctypes.addressof(ctypes.c_char.from_buffer(memory))
    libc = ctypes.CDLL(None, use_errno=True)
    if way == "madvise" and libc.madvise(ctypes.c_void_p(address), size, _MADV_POPULATE_WRITE):
        raise OSError(ctypes.get_errno(), "madvise(MADV_POPULATE_WRITE)")
    if way == "huge":
        libc.madvise(ctypes.c_void_p(address), size, _MADV_HUGEPAGE)
    if way in ("touch", "huge"):
        for at in range(0, size, mmap.PAGESIZE):
            view[at] = 1
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    view.release()
    memory.close()
    return wall, after.ru_stime - before.ru_stime, after.ru_minflt - before.ru_minflt


def main() -> None:
    """Each way, `--runs` times, each in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=620)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)  # the child's
    args = parser.parse_args()
    size = args.mb << 20
    if args.way:
        wall, kernel, faults = fault_in(args.way, size)
        print(f"{args.way:9s} wall {wall:.3f} s  kernel {kernel:.3f} s  faults {faults}")
        return
    for _ in range(args.runs):
        for way in WAYS:
            command = [sys.executable, __file__, "--mb", str(args.mb), "--way", way]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()

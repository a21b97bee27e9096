"""Probe: what a second core gives this machine, by kind of work, apart from any night.

    python bench/two_cores.py [--mb 64] [--runs 3]

Runs three kinds of work, each once alone and then twice at once in two processes: a
Python loop of arithmetic that stays in the caches (`compute`); passes over two arrays of
`--mb` each, far larger than the caches, read and written in place (`stream`, as a night's
columnar steps stream columns); the same passes making a fresh array each time (`fresh`:
pages the kernel maps and zeroes first, as a fresh night's are; so only for arrays above
glibc's largest threshold for mapping, 32 MB: smaller ones it may hand out again). Prints,
per run and kind, the time alone, the time of the pair, and the throughput the pair gets
over one alone (2.0: the second core doubles it). Ends with one JSON object: {"runs",
"compute", "stream", "fresh"}, each the median throughput.

The Parquet floor scales with its threads nearly as `compute` does; a night, made of small
steps one after another that each stream columns, does not: where `stream` is near 1, one
core already takes what memory gives, the second adds little to the night while it doubles
the floor, and the ratio between them grows (docs/PERFORMANCE.md, fifty-sixth session).
"""

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

KINDS = ("compute", "stream", "fresh")
_COMPUTE_STEPS = 20_000_000
_MEMORY_PASSES = 60


def work(kind: str, mb: int) -> float:
    """Do one unit of `kind` (`mb`: each array's size); its wall time in seconds."""
    if kind == "compute":
        started = time.perf_counter()
        total = 0
        for step in range(_COMPUTE_STEPS):
            total += step * step % 7
        return time.perf_counter() - started
    values, scaled = np.ones((mb << 20) // 8), np.empty((mb << 20) // 8)
    started = time.perf_counter()
    for _ in range(_MEMORY_PASSES):
        if kind == "stream":  # the same two arrays, read and written over and over
            np.multiply(values, 1.0000001, out=scaled)
            np.add(scaled, 0.5, out=values)
        else:  # a fresh array each pass: pages the kernel maps and zeroes first
            values = values * 1.0000001 + 0.5
    return time.perf_counter() - started


def main() -> None:
    """Each kind alone, then two at once, `--runs` times, in worker processes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.mb <= 32 or args.runs < 1:
        parser.error("--mb must be above 32 (see `fresh`) and --runs at least 1")
    gains: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with ProcessPoolExecutor(2) as pool:
        for run in range(1, args.runs + 1):
            for kind in KINDS:
                alone = pool.submit(work, kind, args.mb).result()
                started = time.perf_counter()
                pair = [pool.submit(work, kind, args.mb) for _ in range(2)]
                for done in pair:
                    done.result()
                together = time.perf_counter() - started
                gains[kind].append(2 * alone / together)
                print(f"run {run}: {kind:7s} alone {alone:.3f} s, two at once {together:.3f} s:"
                      f" throughput x{gains[kind][-1]:.2f}")  # fmt: skip
    medians = {kind: round(statistics.median(found), 2) for kind, found in gains.items()}
    print(json.dumps({"runs": args.runs, **medians}))


if __name__ == "__main__":
    main()

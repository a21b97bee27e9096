"""Benchmark: bench/daily_run.py's night again and again on one state, and how its ratio spreads.

    python bench/repeat_night.py [--runs 8] [--loans 1000000] [--dir bench-data]

One night on this shared 2-core machine varies by a third from one minute to the next, and
its floor too, so one bench run says little of where the ratio to the floor lies. This runs
the bench `--runs` times, each in a fresh process on the same stored state (the night undone
before each: its run folder and zones gone, runs.json and its payments part as they were),
prints each run's figures as it goes (with the machine's CPU time stolen by its host during
the run, from /proc/stat, where there is one), and ends with one JSON object: {"runs",
"nights", "floors", "ratios", "median_night", "median_floor", "median_ratio", "over_3"}
(over_3: how many ratios were above 3).
"""

import argparse
import json
import statistics
from pathlib import Path

from alternate import ROOT, caught_up, night

_STAT = Path("/proc/stat")


def stolen() -> int | None:
    """The machine's CPU time stolen by its host since boot, in clock ticks (None: unknown)."""
    if not _STAT.is_file():
        return None
    fields = _STAT.read_text(encoding="ascii").splitlines()[0].split()
    return int(fields[8]) if len(fields) > 8 else None


def main() -> None:
    """Run the nights and print their spread."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, not {args.runs}")
    state = caught_up(ROOT, args.loans, args.dir)
    nights: list[float] = []
    floors: list[float] = []
    ratios: list[float] = []
    try:
        for run in range(1, args.runs + 1):
            state.put_back()
            before = stolen()
            figures = night(ROOT, args.loans, args.dir)
            after = stolen()
            steal = "" if before is None or after is None else f", stolen {after - before} ticks"
            nights.append(figures["seconds"])
            floors.append(figures["floor_seconds"])
            ratios.append(figures["ratio"])
            print(
                f"run {run}: {figures['seconds']:.3f} s against {figures['floor_seconds']:.3f} s"
                f" ({figures['ratio']:.1f} x; every column {figures['full_ratio']:.1f} x), CPU"
                f" {figures['cpu_seconds']:.3f} s, kernel {figures['system_seconds']:.3f} s"
                f"{steal}",
                flush=True,
            )
    finally:
        state.put_back()
    print(json.dumps({
        "runs": args.runs, "nights": nights, "floors": floors, "ratios": ratios,
        "median_night": statistics.median(nights), "median_floor": statistics.median(floors),
        "median_ratio": statistics.median(ratios), "over_3": sum(r > 3 for r in ratios),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

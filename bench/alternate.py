"""Benchmark: this checkout's night against another commit's, taken by turns on one state.

    python bench/alternate.py --base COMMIT [--rounds 8] [--loans 1000000] [--dir bench-data]

A night on this shared 2-core machine varies by a third from one minute to the next, so two
versions of the code are compared by turns: the base commit (checked out in a git worktree)
and this checkout each time the same night with `bench/daily_run.py`, in a fresh process,
from the same stored state, put back before every night (the night's run folder removed,
`runs.json`, the zone cache and the night's payments part as they were). The state is the
one this checkout's catch-up made. With `--base-dir`, the base's nights run from a state of
their own, made by the base's catch-up (a state that reads differently: which loans a night
works is decided by the night before). Prints each night as it goes; the last line is one
JSON object: {"base", "rounds", "base_nights", "nights", "base_median", "median", "change"}
(change: this checkout's median over the base's), with the medians of the nights' CPU
("base_cpu_median", "cpu_median", "cpu_change") when both benches count it.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from arrears.adapters.zone_cache import zones_folder
from daily_run import HELD_BACK, deliver_payments, prepare

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2025-11-18"  # bench/daily_run.py's night


@dataclass(frozen=True)
class StoredState:
    """A book's state before the timed night, and how to put it back."""

    book: Path
    runs: bytes  # runs.json
    zones: frozenset[str]  # the zone cache's parts

    @classmethod
    def of(cls, book: Path) -> "StoredState":
        """The state as it is now (before the night)."""
        state = book / "state"
        return cls(book, (state / "runs.json").read_bytes(), frozenset(_names(zones_folder(state))))

    def put_back(self) -> None:
        """Undo a night: its run folder and its zones go, runs.json and its payments return."""
        state = self.book / "state"
        for folder in [*state.glob(f"run-{AS_OF}-*"), *state.glob(".tmp-*")]:
            shutil.rmtree(folder)
        (state / "runs.json").write_bytes(self.runs)
        zones = zones_folder(state)
        for name in _names(zones) - self.zones:
            (zones / name).unlink()
        part = self.book / "payments" / f"{AS_OF}.parquet"
        if part.is_file():
            part.rename(self.book / HELD_BACK)


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def caught_up(code: Path, loans: int, directory: Path) -> StoredState:
    """The book of `directory` with its state up to the day before the night by `code` (a
    checkout; untimed), the night itself undone."""
    book = directory / f"daily-{loans}"
    prepare(book, loans, date.fromisoformat(AS_OF))
    env = {**os.environ, "PYTHONPATH": str(code / "src")}
    subprocess.run(
        [sys.executable, str(code / "bench/daily_run.py"), "--catch-up", "--loans", str(loans),
         "--dir", str(directory)],
        env=env, check=True,
    )  # fmt: skip
    undo_night(book)
    return StoredState.of(book)


def night(code: Path, loans: int, directory: Path) -> dict[str, float]:
    """One night of `code` (a checkout): bench/daily_run.py's last line."""
    env = {**os.environ, "PYTHONPATH": str(code / "src")}
    done = subprocess.run(
        [sys.executable, str(code / "bench/daily_run.py"), "--loans", str(loans),
         "--dir", str(directory)],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def undo_night(book: Path) -> None:
    """The state before the night: a night already run there undone (the zones it learned
    stay in the cache)."""
    runs_file = book / "state" / "runs.json"
    runs = json.loads(runs_file.read_text(encoding="utf-8"))
    runs["runs"] = [r for r in runs["runs"] if r["as_of"] != AS_OF]
    runs_file.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    StoredState(
        book, runs_file.read_bytes(), frozenset(_names(zones_folder(book / "state")))
    ).put_back()


def main() -> None:
    """Alternate the two codes' nights and print their medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--base-dir", type=Path, help="a book whose state the base makes")
    args = parser.parse_args()
    worktree = Path(tempfile.mkdtemp(prefix="arrears-base-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force",
                    str(worktree), args.base], check=True, capture_output=True)  # fmt: skip
    sides = {"base": (worktree, args.base_dir or args.dir), "this": (ROOT, args.dir)}
    nights: dict[str, list[float]] = {"base": [], "this": []}
    cpu: dict[str, list[float]] = {"base": [], "this": []}  # when both benches count it
    states: dict[Path, StoredState] = {}
    try:
        # Each book with its state up to the day before the night (untimed): by this
        # checkout, and by the base for a book of its own.
        states[args.dir] = caught_up(ROOT, args.loans, args.dir)
        if args.base_dir is not None:
            states[args.base_dir] = caught_up(worktree, args.loans, args.base_dir)
        for round_ in range(1, args.rounds + 1):
            for side, (code, directory) in sides.items():
                states[directory].put_back()
                # Delivered here, untimed, for either code: a base before 4046545 looks for
                # them under another name (helper-90: its nights ran without them).
                deliver_payments(states[directory].book, date.fromisoformat(AS_OF))
                figures = night(code, args.loans, directory)
                nights[side].append(figures["seconds"])
                used = ""
                if "cpu_seconds" in figures:
                    cpu[side].append(figures["cpu_seconds"])
                    used = f", CPU {figures['cpu_seconds']:.3f} s"
                print(f"round {round_}: {side:<4} {figures['seconds']:.3f} s{used}", flush=True)
    finally:
        for stored in states.values():
            stored.put_back()
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                       check=False, capture_output=True)  # fmt: skip
    base, this = statistics.median(nights["base"]), statistics.median(nights["this"])
    result = {
        "base": args.base, "rounds": args.rounds, "base_nights": nights["base"],
        "nights": nights["this"], "base_median": base, "median": this,
        "change": round(this / base, 3),
    }  # fmt: skip
    if len(cpu["base"]) == len(cpu["this"]) == args.rounds:
        base_cpu, this_cpu = statistics.median(cpu["base"]), statistics.median(cpu["this"])
        result |= {"base_cpu_median": base_cpu, "cpu_median": this_cpu,
                   "cpu_change": round(this_cpu / base_cpu, 3)}  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Profile: each step of one fresh bench night with its wall time, the page faults of the
process meanwhile, and the process's kernel and user CPU (both cores) meanwhile.

    python bench/night_steps.py [--loans 1000000] [--dir bench-data] [--nights 1]

The night is bench/daily_run.py's, on the state caught up before (untimed), undone after each
night; each night runs in this process one after another, so only the first is a fresh
process's (`--nights 1` is what a nightly job pays). On a machine where the kernel's share of
a night is large, this shows which step faults in the fresh memory it pays for.
"""

import argparse
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from alternate import ROOT, caught_up
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.batch.pipeline import PIPELINE, RunContext
from arrears.batch.run import summarise
from arrears.bootstrap import build_app
from daily_run import AS_OF, AT, deliver_payments


@dataclass(frozen=True)
class Reading:
    """The clock and the process's counters at one instant."""

    wall: float
    faults: int
    kernel: float
    user: float

    @classmethod
    def now(cls) -> "Reading":
        """Read them."""
        used = resource.getrusage(resource.RUSAGE_SELF)
        return cls(time.perf_counter(), used.ru_minflt, used.ru_stime, used.ru_utime)

    def since(self, before: "Reading") -> str:
        """What passed from `before` to this reading, as a line's figures."""
        faults = self.faults - before.faults
        return (
            f"wall {1000 * (self.wall - before.wall):7.1f} ms  faults {faults:7d}"
            f"  kernel {1000 * (self.kernel - before.kernel):6.1f} ms"
            f"  user {1000 * (self.user - before.user):6.1f} ms"
        )


def night(store: ParquetEngineStore, ctx: RunContext) -> list[tuple[str, Reading, Reading]]:
    """One night, step by step as run_day does it (a step's time includes what the store
    begins after it: `progress`)."""
    steps = []
    before = Reading.now()
    frames = store.load(ctx)
    steps.append(("load", before, Reading.now()))
    for name, step in PIPELINE:
        before = Reading.now()
        frames = step(frames, ctx)
        store.progress(name, frames)
        steps.append((name, before, Reading.now()))
    before = Reading.now()
    summary = summarise(frames, AS_OF, store.last_run(before=AS_OF))
    store.save(frames, AS_OF, summary, AT)
    steps.append(("summary+save", before, Reading.now()))
    return steps


def main() -> None:
    """Print each night's steps and their totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--nights", type=int, default=1)
    args = parser.parse_args()
    state = caught_up(ROOT, args.loans, args.dir)
    ctx = build_app(None, None).run_context(AS_OF)
    for count in range(args.nights):
        deliver_payments(state.book, AS_OF)
        try:
            steps = night(ParquetEngineStore(state.book), ctx)
        finally:
            state.put_back()  # the book as it was found: the night undone
        print(f"night {count + 1}:")
        for name, before, after in steps:
            print(f"  {name:14s} {after.since(before)}")
        print(f"  {'total':14s} {steps[-1][2].since(steps[0][1])}")


if __name__ == "__main__":
    main()

"""Profile: when each named function of a fresh bench night runs, on which thread, at what cost.

    python bench/night_timeline.py [--loans 1000000] [--dir bench-data] NAME [NAME ...]

NAME is `package.module.function` or `package.module:Class.method`, e.g.
`arrears.adapters.parquet_store.read_chain` or
`arrears.adapters.parquet_store:ParquetEngineStore._people`. A function is wrapped where the
module holds it, so name it in the module that calls it (an imported name is its own binding).
The night is bench/daily_run.py's, undone first, in this fresh process, the state caught up
before (untimed); it is undone again after. Prints the night's steps, then each call of a
named function in order of its start: start and end in ms from the night's start, its wall
time, the CPU time of its own thread (Polars' pool works for it unseen), the page faults of
the whole process meanwhile, and its thread.
"""

import argparse
import importlib
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alternate import ROOT, caught_up
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.bootstrap import build_app
from daily_run import AS_OF, deliver_payments, timed_run


@dataclass(frozen=True)
class Call:
    """One call of a wrapped function."""

    start: float  # seconds from the night's start
    end: float
    cpu: float  # its thread's CPU seconds
    faults: int  # the process's minor page faults while it ran
    name: str
    thread: str


def _faults() -> int:
    """The process's minor page faults so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def wrapped(
    name: str, function: Callable[..., Any], calls: list[Call], zero: list[float]
) -> Callable[..., Any]:
    """`function` recording each call in `calls` (times from zero[0])."""

    def call(*args: Any, **kwargs: Any) -> Any:
        started, cpu, faults = time.perf_counter(), time.thread_time(), _faults()
        try:
            return function(*args, **kwargs)
        finally:
            calls.append(Call(started - zero[0], time.perf_counter() - zero[0],
                              time.thread_time() - cpu, _faults() - faults, name,
                              threading.current_thread().name))  # fmt: skip

    return call


def patch(name: str, calls: list[Call], zero: list[float]) -> None:
    """Wrap the function or method `name` where its module or class holds it."""
    if ":" in name:
        module_name, _, path = name.partition(":")
        class_name, _, attribute = path.partition(".")
    else:
        module_name, _, attribute = name.rpartition(".")
        class_name = ""
    try:
        owner: Any = importlib.import_module(module_name)
    except (ImportError, ValueError):
        raise SystemExit(f"{name}: no module {module_name!r}") from None
    if class_name:
        owner = getattr(owner, class_name, None)
    if not callable(getattr(owner, attribute, None)):
        raise SystemExit(f"{name}: no such function")
    setattr(owner, attribute, wrapped(name, getattr(owner, attribute), calls, zero))


def main() -> None:
    """Time one fresh night with the named functions wrapped, and print their calls."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", metavar="NAME")
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    calls: list[Call] = []
    zero = [0.0]
    for name in args.names:
        patch(name, calls, zero)
    state = caught_up(ROOT, args.loans, args.dir)
    deliver_payments(state.book, AS_OF)
    ctx = build_app(None, None).run_context(AS_OF)
    try:
        zero[0] = time.perf_counter()
        times = timed_run(ParquetEngineStore(state.book), ctx)
    finally:
        state.put_back()  # the book as it was found: the night undone
    print("  ".join(f"{k.strip()} {v:.3f}" for k, v in times.items() if not k.startswith(" ")))
    for c in sorted(calls, key=lambda c: c.start):
        print(
            f"{c.start * 1000:7.0f} -> {c.end * 1000:7.0f} ms ({(c.end - c.start) * 1000:6.1f} ms,"
            f" CPU {c.cpu * 1000:6.1f} ms, faults {c.faults:6d}) {c.name} [{c.thread}]"
        )


if __name__ == "__main__":
    main()

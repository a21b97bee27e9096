"""Probe: would the loan table as uncompressed Arrow IPC, memory-mapped, move the ratio?

    python bench/state_format.py [--loans 1000000] [--dir bench-data] [--rounds 3]

A night reads the loan table twice: every loan's OWNERS and EVERY_LOAN columns
(`loan_table.read_chain`), then the other columns of the loans it works (`ChainTable.picking`).
The floor scans the same table's number and date columns. This times the three on the bench
book's base, as it is (Parquet, LZ4) and as an IPC copy read through a memory map, each reading
in a fresh process (a night's are), by turns for `--rounds` rounds; the worked loans are those
of the bench's night, found by its load (untimed). The last line is one JSON object:
{"rounds", "worked", "parquet_mb", "ipc_mb", "parquet_ms", "ipc_ms", "night_saving_ms",
"floor_saving_ms"} (the table's size on disk in each format; medians, by read: "every_loan",
"picked", "floor"; the floor is best of three, as daily_run takes it).
A change of state format lowers the ratio only if the night saves more than the ratio times
what the floor saves.
"""

import argparse
import json
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from alternate import ROOT, caught_up
from arrears.adapters import loan_table
from arrears.adapters.book_folder import read_rows
from arrears.adapters.loan_table import ChainTable, Positions, read_chain
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.batch.grouped import distinct
from arrears.bootstrap import build_app
from daily_run import AS_OF, deliver_payments, reduced

READS = ("every_loan", "picked", "floor")


def worked_rows(loans: int, directory: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """The base's parts, and the rows and columns the bench night picks (its load run, then
    undone)."""
    state = caught_up(ROOT, loans, directory)
    ctx = build_app(None, None).run_context(AS_OF)
    deliver_payments(state.book, AS_OF)
    seen: list[tuple[list[Path], np.ndarray, list[str]]] = []
    picking = ChainTable.picking

    def spy(table: ChainTable, at: Positions, columns: Sequence[str]) -> ChainTable:
        stored = [name for name in dict.fromkeys(columns) if name not in table.frame.columns]
        seen.append((table.parts, distinct(at), stored))
        return picking(table, at, columns)

    try:
        with patch.object(ChainTable, "picking", spy):
            store = ParquetEngineStore(state.book)
            store.load(ctx)
            store.abandon()
    finally:
        state.put_back()
    return seen[0]


def _parquet_reads(
    parts: list[Path], at: np.ndarray, columns: list[str]
) -> list[Callable[[], Any]]:
    """The three reads as the night and the floor make them now."""
    numbers = [expr for _, expr in _numbers(pl.read_parquet_schema(parts[0]))]

    def every_loan() -> pl.DataFrame:  # the night's own read of the base, a chain of one
        return read_chain(parts[0].parents[2], [parts[0].parents[1].name]).frame

    def floor() -> pl.DataFrame:
        return pl.scan_parquet(parts).select(numbers).collect()

    return [every_loan, lambda: read_rows(parts, at, columns), floor]


def _ipc_reads(path: Path, at: np.ndarray, columns: list[str]) -> list[Callable[[], Any]]:
    """The same reads of an IPC copy through a memory map (no copy of fixed-width columns)."""
    every = [*loan_table.OWNERS, *loan_table.EVERY_LOAN]

    def mapped() -> pa.Table:
        return ipc.open_file(pa.memory_map(str(path))).read_all()

    def every_loan() -> pl.DataFrame:
        frame = pl.from_arrow(mapped().select(every))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def picked() -> pl.DataFrame:
        frame = pl.from_arrow(mapped().select(columns))
        assert isinstance(frame, pl.DataFrame)
        return frame[pl.Series(at)]

    def floor() -> pl.DataFrame:
        # Only the columns summed are handed to Polars (the others' texts and categories
        # would be converted for nothing).
        table = mapped()
        empty = pl.from_arrow(table.schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        sums = _numbers(empty.schema)
        frame = pl.from_arrow(table.select([name for name, _ in sums]))
        assert isinstance(frame, pl.DataFrame)
        return frame.select(expr for _, expr in sums)

    return [every_loan, picked, floor]


def _numbers(schema: Mapping[str, pl.DataType]) -> list[tuple[str, pl.Expr]]:
    """The floor's sums (daily_run.floor): every column but texts, categories and the copies
    of the loans' terms, each as one number."""
    kept = [n for n, t in schema.items()
            if n not in loan_table.STATIC and t not in (pl.String, pl.Categorical)]  # fmt: skip
    return [(n, reduced(n, schema[n])) for n in kept]


def probe(kind: str, saved: Path) -> dict[str, float]:
    """In this (fresh) process: the night's two reads once each, then the floor's scan of
    the table best of three; milliseconds and page faults."""
    parts, at, columns, copy = pickle.loads(saved.read_bytes())
    reads = (
        _parquet_reads(parts, at, columns) if kind == "parquet" else _ipc_reads(copy, at, columns)
    )
    out: dict[str, float] = {}
    for name, read in zip(READS, reads, strict=True):
        times = []
        for _ in range(3 if name == "floor" else 1):
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            started = time.perf_counter()
            read()
            times.append(1000 * (time.perf_counter() - started))
            out[f"{name}_faults"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        out[name] = min(times)
    return out


def main() -> None:
    """Time both formats by turns and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--probe", nargs=2, metavar=("KIND", "SAVED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe[0], Path(args.probe[1]))))
        return
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    parts, at, columns = worked_rows(args.loans, args.dir)
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        copy = Path(work) / "loans.arrow"
        pl.read_parquet(parts).write_ipc(copy, compression="uncompressed")
        size, copied = sum(p.stat().st_size for p in parts), copy.stat().st_size
        saved = Path(work) / "rows.pickle"
        saved.write_bytes(pickle.dumps((parts, at, columns, copy)))
        found: dict[str, list[dict[str, float]]] = {"parquet": [], "ipc": []}
        for round_ in range(args.rounds):
            for kind in found:
                done = subprocess.run(
                    [sys.executable, __file__, "--probe", kind, str(saved)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                found[kind].append(json.loads(done.stdout.strip().splitlines()[-1]))
                figures = found[kind][-1]
                print(f"round {round_ + 1} {kind:7s} " + "  ".join(
                    f"{r} {figures[r]:6.1f} ms ({int(figures[f'{r}_faults'])} faults)"
                    for r in READS
                ))  # fmt: skip
    medians = {kind: {r: round(statistics.median(f[r] for f in runs), 1) for r in READS}
               for kind, runs in found.items()}  # fmt: skip
    before, after = medians["parquet"], medians["ipc"]
    print(json.dumps({
        "rounds": args.rounds, "worked": int(at.size), "parquet_mb": round(size / 2**20, 1),
        "ipc_mb": round(copied / 2**20, 1),
        "parquet_ms": before, "ipc_ms": after,
        "night_saving_ms": round(before["every_loan"] + before["picked"]
                                 - after["every_loan"] - after["picked"], 1),
        "floor_saving_ms": round(before["floor"] - after["floor"], 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

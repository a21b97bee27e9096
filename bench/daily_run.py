"""Benchmark: the nightly end-of-day run of a Parquet book, against the scan-and-sum floor.

    python bench/daily_run.py --loans 1000000 [--dir bench-data] [--stores] [--spark]

Builds a synthetic Chinese consumer-loan book column-wise (about ten monthly instalments a
loan, a tenth of it past due, part deeply; payments, calls and promises), writes it as Parquet,
and brings its state to the day before `--as-of` in a child process (untimed: the first run
catches every loan up from its contract date). It then times the end of day for `--as-of`, the
run a lender does every night, in a fresh process: load the book and its state from Parquet,
each step of the pipeline, the summary, and the atomic save; and counts the night's CPU, user
and system, on both cores. In the same process it times the floor (best of three): scanning
the whole book (every input file and the state the night starts from) and summing every
numeric and date column; beside it, the floor scanning every column of them (texts by their
lengths, the borrowers too). With --stores, the same day runs from SQLite (and PostgreSQL
when ARREARS_TEST_PG_URL is set) through SqlEngineStore; with --spark, on Spark local[2]. The
book and its state are kept in --dir and reused by the next run of the bench. The last line
is one JSON object.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from arrears.adapters.book_folder import BookFolder, part_files
from arrears.adapters.book_tables import INPUTS
from arrears.adapters.loan_table import STATIC
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch import advance, pipeline, stages
from arrears.batch.pipeline import PIPELINE, RunContext
from arrears.batch.ports import EngineStore
from arrears.batch.run import run_day, summarise
from arrears.bootstrap import build_app

SCHEDULE = ("loan_id", "seq", "due_date", "principal_due", "interest_due", "fee_due")
# The timed night's payments, held back at the book's root until the night: a hidden name,
# which a run leaves be (a book refuses a Parquet file at its root that is no input).
HELD_BACK = "_held-back.parquet"
# Where versions before it held them: a book such a version prepared is delivered from there.
HELD_BACK_BEFORE = "held-back.parquet"
AS_OF = date(2025, 11, 18)  # the private-loan cap needs an LPR fixing known on each contract
AT = datetime(2025, 11, 18, 23, 30, tzinfo=UTC)
SQL_FEEDS = ("borrowers", "loans", "installments", "payments", "contact_attempts", "promises")
# Functions inside the steps whose time the profile shows (module, attribute).
INSIDE = (
    (advance, "_run"), (pipeline, "summarise_loans"),
    (pipeline, "states_from_summaries"), (pipeline, "stage_facts"), (pipeline, "transition"),
    (stages, "_explain"), (pipeline, "due_candidates"), (pipeline, "plan_actions"),
    (pipeline, "evaluate_promises"),
)  # fmt: skip


def prepare(directory: Path, loans: int, as_of: date) -> None:
    """Write the book's inputs unless a book of this size is already there: payments as a
    folder of parts, the history in one and each later day's in its own (as a lender's
    daily feed arrives); the part of `as_of` is held back until the timed night."""
    if (directory / "loans.parquet").is_file():
        return
    started = time.perf_counter()
    tables = synthetic_frames(loans, as_of)
    payments = tables.pop("payments")
    write_book(tables, directory)
    (directory / "payments").mkdir()
    payments.filter(pl.col("paid_on") < as_of).write_parquet(directory / "payments/history.parquet")
    payments.filter(pl.col("paid_on") == as_of).write_parquet(directory / HELD_BACK)
    print(f"book written in {time.perf_counter() - started:.1f} s: {directory}")


def deliver_payments(directory: Path, as_of: date) -> None:
    """The timed night's payments arrive: the held-back part joins the payments folder."""
    for name in (HELD_BACK, HELD_BACK_BEFORE):
        held = directory / name
        if held.is_file():
            held.rename(directory / f"payments/{as_of}.parquet")


def catch_up(store: EngineStore, ctx: RunContext, label: str) -> None:
    """Bring the book's state to ctx.as_of (untimed), unless it is there already."""
    last = store.last_run()
    if last is not None and last >= ctx.as_of:
        return
    started = time.perf_counter()
    run_day(store, ctx, AT)
    print(f"{label}: state brought to {ctx.as_of} in {time.perf_counter() - started:.1f} s")


@contextmanager
def profiled(times: dict[str, float]) -> Iterator[None]:
    """Add the time spent in each function of INSIDE to `times` while the block runs."""
    originals = [(m, name, getattr(m, name)) for m, name in INSIDE if hasattr(m, name)]

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times[label] = times.get(label, 0.0) + time.perf_counter() - started

        return call

    for module, name, function in originals:
        setattr(module, name, timed(f"  {name}", function))
    try:
        yield
    finally:
        for module, name, function in originals:
            setattr(module, name, function)


def timed_run(store: EngineStore, ctx: RunContext) -> dict[str, float]:
    """The end of day as batch.run.run_day does it, each part timed (a step's time includes
    what the store begins after it: `progress`)."""
    times: dict[str, float] = {}
    used = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    frames = store.load(ctx)
    times["load"] = time.perf_counter() - started
    with profiled(times):
        for name, step in PIPELINE:
            begun = time.perf_counter()
            frames = step(frames, ctx)
            store.progress(name, frames)
            times[name] = time.perf_counter() - begun
    begun = time.perf_counter()
    summary = summarise(frames, ctx.as_of, store.last_run(before=ctx.as_of))
    store.save(frames, ctx.as_of, summary, AT)
    times["summary+save"] = time.perf_counter() - begun
    times["total"] = time.perf_counter() - started
    # The night's CPU on both cores, and the kernel's share of it (first touches of fresh
    # memory): a change that moves work between the cores shows here, not in the wall time.
    now = resource.getrusage(resource.RUSAGE_SELF)
    times["cpu"] = now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
    times["system"] = now.ru_stime - used.ru_stime
    return times


def floor(store: ParquetEngineStore, as_of: date, *, texts: bool = False) -> float:
    """Scan the book once: its inputs and the state a run for as_of starts from, summing
    every number and date. The state is every table the runs kept (the loan tables, the
    segments of active lines, the settled lines); its copies of input columns (a loan's terms,
    a line's schedule) are not scanned twice. With `texts`, every column of every input (the
    borrowers too) and of the state, texts reduced to the sum of their lengths in bytes and
    categories to their codes: a reading of the floor the bench reports beside the first,
    for the issue's owner to weigh (docs/PERFORMANCE.md, eighth session of 2026-12-01)."""
    names = INPUTS if texts else ("loans", "installments", "payments", "contact_attempts",
                                  "promises")  # fmt: skip
    scans: list[tuple[Path, set[str]]] = [
        (path, set()) for name in names for path in store.folder.input_parts(name)
    ]
    copies = {"loans": set(STATIC), "instalment_states": set(SCHEDULE),
              "settled_lines": set(SCHEDULE)}  # fmt: skip
    for run in store.folder.runs():
        if run.as_of < as_of:
            for table, skip in copies.items():
                scans += [(p, skip) for p in part_files(store.folder.table_path(run, table))]
    started = time.perf_counter()
    for path, skip in scans:
        scan = pl.scan_parquet(path)
        kept = {n: t for n, t in scan.collect_schema().items() if n not in skip}
        if not texts:
            kept = {n: t for n, t in kept.items() if t not in (pl.String, pl.Categorical)}
        sums = [reduced(n, t) for n, t in kept.items()]
        scan.select(sums).collect()
    return time.perf_counter() - started


def reduced(name: str, dtype: pl.DataType) -> pl.Expr:
    """A column as one number: its texts' lengths in bytes, else its values (a category's
    code, a date's day number) summed."""
    if dtype == pl.String:
        return pl.col(name).str.len_bytes().sum()
    return pl.col(name).to_physical().cast(pl.Int64).sum()


def report(label: str, times: dict[str, float]) -> None:
    """One line per timed part, then the parts as one JSON line."""
    print(f"{label}:")
    for name, seconds in times.items():
        print(f"  {name:<22} {seconds:8.2f} s")
    steps = {name.strip(): round(seconds, 3) for name, seconds in times.items()}
    print(json.dumps({"source": label, "steps": steps}))


def parquet_run(
    directory: Path, loans: int, as_of: date
) -> tuple[dict[str, float], tuple[float, float], int]:
    """The Parquet book's timed day, its floors (the numbers; every column), and its
    instalment count.

    The book is brought up to the day before in a process of its own: a lender's nightly
    run starts a fresh process, not one that has just worked a whole book from its start."""
    prepare(directory, loans, as_of)
    subprocess.run(
        [sys.executable, __file__, "--catch-up", "--loans", str(loans),
         "--dir", str(directory.parent), "--as-of", as_of.isoformat()],
        check=True,
    )  # fmt: skip
    app = build_app(None, None)
    store = ParquetEngineStore(directory)
    deliver_payments(directory, as_of)
    times = timed_run(store, app.run_context(as_of))
    report("parquet", times)
    instalments = pl.scan_parquet(directory / "installments.parquet").select(pl.len()).collect()
    # A floor is the best of three scans: one scan varies by a factor of two on this machine.
    floors = (min(floor(store, as_of) for _ in range(3)),
              min(floor(store, as_of, texts=True) for _ in range(3)))  # fmt: skip
    return times, floors, int(instalments.item())


def fill_database(url: str, directory: Path) -> EngineStore:
    """A migrated database holding the book's inputs (kept when it already holds them)."""
    from sqlalchemy import func, select

    from arrears.adapters.db import tables
    from arrears.adapters.db.engine import make_engine
    from arrears.adapters.db.engine_store import SqlEngineStore
    from arrears.adapters.db.frames_io import write_frame
    from arrears.adapters.db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(tables.loans)).scalar_one():
            return SqlEngineStore(engine)
    folder = BookFolder(directory, INPUTS)
    read = {n: pl.concat([pl.read_parquet(p) for p in folder.input_parts(n)]) for n in SQL_FEEDS}
    extra = {
        "borrowers": [pl.format("借款人{}", pl.col("borrower_id")).alias("name")],
        "loans": [pl.lit("CNY").alias("currency")],
        "contact_attempts": [pl.col("at").alias("recorded_at"), pl.lit(True).alias("allowed"),
                             pl.lit("[]").alias("reasons")],
        "promises": [pl.lit("open").alias("status"), pl.lit(None, pl.Date).alias("settled_on")],
    }  # fmt: skip
    started = time.perf_counter()
    with engine.begin() as conn:
        for name, frame in read.items():
            write_frame(conn, getattr(tables, name), frame.with_columns(*extra.get(name, [])))
    print(f"{url.split(':', 1)[0]}: book written in {time.perf_counter() - started:.1f} s")
    return SqlEngineStore(engine)


def sql_runs(directory: Path, as_of: date) -> None:
    """The same day from SQLite (and PostgreSQL when ARREARS_TEST_PG_URL is set)."""
    urls = [f"sqlite:///{directory / 'book.db'}"]
    if os.environ.get("ARREARS_TEST_PG_URL"):
        # A schema of its own in the test database, kept between runs of the bench.
        schema = f"bench_daily_{directory.name.replace('-', '_')}"
        admin = build_app(os.environ["ARREARS_TEST_PG_URL"], None).engine
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        admin.dispose()
        urls.append(f"{os.environ['ARREARS_TEST_PG_URL']}?options=-csearch_path%3D{schema}")
    for url in urls:
        store = fill_database(url, directory)
        app = build_app(url, None)
        label = url.split(":", 1)[0].split("+")[0]
        catch_up(store, app.run_context(as_of - timedelta(days=1)), label)
        report(label, timed_run(store, app.run_context(as_of)))


def spark_run(directory: Path, as_of: date) -> None:
    """The same day on Spark local[2] (from a copy of the book, so both engines start alike)."""
    import shutil

    from arrears.adapters.spark_engine import SparkEngine, spark_session

    copy = directory.with_name(directory.name + "-spark")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(directory, copy)
    session = spark_session("local[2]", shuffle_partitions=4)
    try:
        started = time.perf_counter()
        SparkEngine(session, copy).run_day(build_app(None, None).run_context(as_of), AT)
        print(json.dumps({"source": "spark", "seconds": round(time.perf_counter() - started, 2)}))
    finally:
        session.stop()


def main() -> None:
    """Run the benchmark and print its figures; the last line is the Parquet run's JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--stores", action="store_true", help="also SQLite (and PostgreSQL)")
    parser.add_argument("--spark", action="store_true", help="also Spark local[2]")
    parser.add_argument("--catch-up", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    directory = args.dir / f"daily-{args.loans}"
    if args.catch_up:  # the untimed part, in its own process (parquet_run)
        ctx = build_app(None, None).run_context(args.as_of - timedelta(days=1))
        catch_up(ParquetEngineStore(directory), ctx, "parquet")
        return
    times, (floor_seconds, full_floor), instalments = parquet_run(directory, args.loans, args.as_of)
    if args.stores:
        sql_runs(directory, args.as_of)
    if args.spark:
        spark_run(directory, args.as_of)
    seconds = times["total"]
    print(
        f"floor {floor_seconds:.3f} s (numbers and dates); every column, texts too: "
        f"{full_floor:.3f} s ({seconds / full_floor:.1f} x)"
    )
    print(json.dumps({
        "loans": args.loans, "installments": instalments, "seconds": round(seconds, 3),
        "floor_seconds": round(floor_seconds, 3), "ratio": round(seconds / floor_seconds, 1),
        "loans_per_second": round(args.loans / seconds), "source": "parquet",
        "full_floor_seconds": round(full_floor, 3), "full_ratio": round(seconds / full_floor, 1),
        "cpu_seconds": round(times["cpu"], 3), "system_seconds": round(times["system"], 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark: one night of the SQL stores, this checkout's against another commit's, by turns.

    python bench/sql_night.py --base COMMIT [--rounds 3] [--loans 100000] [--dir bench-data]
                              [--postgresql]

The night of bench/daily_run.py's book (`--loans`, kept in `--dir`) run through
SqlEngineStore: on a SQLite file, and with --postgresql on a schema of the database
ARREARS_TEST_PG_URL names. The database is filled from the book and its state brought to the
day before the night by this checkout (untimed, once; kept beside the book), then the base
commit (checked out in a git worktree) and this checkout each run the night by turns, each in
a fresh process from that same state put back before every night (SQLite: the file copied
back; PostgreSQL: the schema dropped and restored from a pg_dump of it, so `pg_dump` and
`psql` must be on the PATH). The base must read the same schema (no migration between the
two). Prints each night's load, save and total; the last line is one JSON object:
{"store", "base", "rounds", "base_nights", "nights", "base_median", "median", "change"} with
the medians of load and save beside.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from alternate import ROOT
from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.engine_store import SqlEngineStore
from arrears.bootstrap import build_app
from daily_run import AS_OF, catch_up, deliver_payments, fill_database, prepare, timed_run

SCHEMA = "bench_sql_night"  # PostgreSQL: the night's schema, in the test database


def _pg(arguments: list[str], base_url: str) -> None:
    """A PostgreSQL client tool on the database of `base_url` (psql, pg_dump)."""
    url = base_url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run([*arguments, "--dbname", url], check=True, capture_output=True)


class SqliteState:
    """A SQLite book at the day before the night, and how to put it back."""

    def __init__(self, directory: Path) -> None:
        self.before = directory / "sql-night-before.db"
        self.file = directory / "sql-night.db"
        self.url = f"sqlite:///{self.file}"
        if not self.before.is_file():
            _made(f"sqlite:///{self.before}", directory, "sqlite")
            # Everything in the file itself, so that copying it copies the state.
            with closing(sqlite3.connect(self.before)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def put_back(self) -> None:
        """The file as it was before the night."""
        for suffix in ("-wal", "-shm"):
            Path(f"{self.file}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.before, self.file)


class PostgresState:
    """A schema of the test database at the day before the night, and how to put it back."""

    def __init__(self, directory: Path) -> None:
        self.base_url = os.environ["ARREARS_TEST_PG_URL"]
        self.dump = directory / "sql-night-before.sql"
        self.url = f"{self.base_url}?options=-csearch_path%3D{SCHEMA}"
        if not self.dump.is_file():
            self._drop()
            _pg(["psql", "-q", "-c", f"CREATE SCHEMA {SCHEMA}"], self.base_url)
            _made(self.url, directory, "postgresql")
            _pg(["pg_dump", "--schema", SCHEMA, "--file", str(self.dump)], self.base_url)

    def _drop(self) -> None:
        _pg(["psql", "-q", "-c", f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"], self.base_url)

    def put_back(self) -> None:
        """The schema as it was before the night (restored from its dump, then analysed)."""
        self._drop()
        _pg(["psql", "-q", "-v", "ON_ERROR_STOP=1", "--file", str(self.dump)], self.base_url)
        _pg(["psql", "-q", "-c", "ANALYZE"], self.base_url)


def _made(url: str, directory: Path, label: str) -> None:
    """A database at `url` filled from the book, its state at the day before the night."""
    store = fill_database(url, directory)
    catch_up(store, build_app(url, None).run_context(AS_OF - timedelta(days=1)), label)
    assert isinstance(store, SqlEngineStore)
    store.engine.dispose()


def night(code: Path, url: str) -> dict[str, float]:
    """One night of `code` (a checkout) on the database at `url`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(code / "src")}
    done = subprocess.run([sys.executable, __file__, "--night", url], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _one_night(url: str) -> None:
    """The timed night (the child's part): its steps' times as JSON."""
    store = SqlEngineStore(make_engine(url))
    times = timed_run(store, build_app(url, None).run_context(AS_OF))
    print(json.dumps({k.strip(): round(v, 3) for k, v in times.items()}))


def main() -> None:
    """Alternate the two codes' nights on one store and print their medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--postgresql", action="store_true", help="ARREARS_TEST_PG_URL's")
    parser.add_argument("--night", help=argparse.SUPPRESS)  # the child: one night at this URL
    args = parser.parse_args()
    if args.night:
        _one_night(args.night)
        return
    if not args.base:
        parser.error("--base COMMIT is needed")
    if args.postgresql and not os.environ.get("ARREARS_TEST_PG_URL"):
        parser.error("--postgresql needs ARREARS_TEST_PG_URL")
    directory = args.dir / f"daily-{args.loans}"
    prepare(directory, args.loans, AS_OF)
    deliver_payments(directory, AS_OF)  # the database holds the night's payments
    state = PostgresState(directory) if args.postgresql else SqliteState(directory)
    worktree = Path(tempfile.mkdtemp(prefix="arrears-base-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force",
                    str(worktree), args.base], check=True, capture_output=True)  # fmt: skip
    runs: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
    try:
        for round_ in range(1, args.rounds + 1):
            for side, code in (("base", worktree), ("this", ROOT)):
                state.put_back()
                figures = night(code, state.url)
                runs[side].append(figures)
                print(f"round {round_}: {side:<4} load {figures['load']:.2f} s, save "
                      f"{figures['summary+save']:.2f} s, night {figures['total']:.2f} s",
                      flush=True)  # fmt: skip
    finally:
        state.put_back()
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                       check=False, capture_output=True)  # fmt: skip

    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    base, this = median("base", "total"), median("this", "total")
    print(json.dumps({
        "store": "postgresql" if args.postgresql else "sqlite", "base": args.base,
        "rounds": args.rounds, "base_nights": [r["total"] for r in runs["base"]],
        "nights": [r["total"] for r in runs["this"]], "base_median": base, "median": this,
        "change": round(this / base, 3),
        "base_load_median": median("base", "load"), "load_median": median("this", "load"),
        "base_save_median": median("base", "summary+save"),
        "save_median": median("this", "summary+save"),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark: import a synthetic instalments feed (CSV and Parquet) and compare with the read floor.

    python bench/import_feed.py --installments 1000000

Generates borrowers, loans (10 instalments each) and the instalments feed in a temporary
directory, imports them into SQLite (and into PostgreSQL when ARREARS_TEST_PG_URL is set, in a
throw-away schema), and times the instalments import against the floor measured in the same run:
reading and parsing the same file with pyarrow alone (no checks, no database). The last line is
one JSON object: the CSV-into-SQLite run.
"""

import argparse
import json
import os
import secrets
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.ledger_store import SqlLedgerStore
from arrears.adapters.db.migrate import upgrade
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.services.feed import FeedKind
from arrears.services.import_feed import import_feed

INSTALMENTS_PER_LOAN = 10
LOANS_PER_BORROWER = 2
PRODUCTS = {"cn-cash"}
FIRST_CONTRACT = date(2025, 1, 1)


def _id(prefix: str, number: pl.Expr) -> pl.Expr:
    """A zero-padded id such as L00000042."""
    return pl.format(f"{prefix}{{}}", number.cast(pl.String).str.zfill(8))


def synthetic_feeds(instalments: int) -> dict[FeedKind, pl.DataFrame]:
    """Borrowers, loans and instalments as text frames (what a lender's export holds)."""
    loans = max(1, instalments // INSTALMENTS_PER_LOAN)
    borrowers = max(1, loans // LOANS_PER_BORROWER)
    b = pl.col("b")
    borrower_frame = pl.select(b=pl.int_range(0, borrowers)).select(
        borrower_id=_id("B", b),
        name=pl.format("Borrower {}", b),
        phone=pl.format("+86138{}", b.cast(pl.String).str.zfill(8)),
    )
    n = pl.col("n")
    loan_frame = pl.select(n=pl.int_range(0, loans)).select(
        loan_id=_id("L", n),
        borrower_id=_id("B", n // LOANS_PER_BORROWER),
        product=pl.lit("cn-cash"),
        currency=pl.lit("CNY"),
        principal=pl.lit("10000.00"),
        annual_rate=pl.lit("0.18"),
        contract_date=(pl.lit(FIRST_CONTRACT) + pl.duration(days=n % 365)).cast(pl.String),
    )
    i = pl.col("i")
    loan, seq = i // INSTALMENTS_PER_LOAN, i % INSTALMENTS_PER_LOAN + 1
    due = pl.lit(FIRST_CONTRACT) + pl.duration(days=loan % 365 + 30 * seq)
    instalment_frame = pl.select(i=pl.int_range(0, loans * INSTALMENTS_PER_LOAN)).select(
        loan_id=_id("L", loan),
        seq=seq.cast(pl.String),
        due_date=due.cast(pl.String),
        principal_due=pl.lit("1000.00"),
        interest_due=pl.format("{}.{}", 15 + seq, (seq * 7 % 100).cast(pl.String).str.zfill(2)),
        fee_due=pl.when(seq % 3 == 0).then(pl.lit("5.00")).otherwise(pl.lit("")),
    )
    return {"borrowers": borrower_frame, "loans": loan_frame, "installments": instalment_frame}


def typed_for_parquet(frame: pl.DataFrame) -> pl.DataFrame:
    """The instalments as a careful exporter types them: dates, integers, decimals."""
    money = [
        pl.col(c).replace("", None).cast(pl.Decimal(18, 2))
        for c in ("principal_due", "interest_due", "fee_due")
    ]
    return frame.with_columns(
        pl.col("seq").cast(pl.Int32), pl.col("due_date").str.to_date(), *money
    )


def write_files(directory: Path, feeds: dict[FeedKind, pl.DataFrame]) -> dict[str, Path]:
    """The set-up feeds as CSV, the instalments as CSV and as typed Parquet."""
    paths: dict[str, Path] = {}
    for kind, frame in feeds.items():
        paths[kind] = directory / f"{kind}.csv"
        frame.write_csv(paths[kind])
    paths["parquet"] = directory / "installments.parquet"
    typed_for_parquet(feeds["installments"]).write_parquet(paths["parquet"])
    return paths


def floor_seconds(path: Path) -> float:
    """Reading and parsing the file with pyarrow alone: the least any import must spend."""
    start = time.perf_counter()
    if path.suffix == ".csv":
        pacsv.read_csv(path)
    else:
        pq.read_table(path)
    return time.perf_counter() - start


class Databases:
    """Fresh migrated databases: SQLite files, and PostgreSQL schemas when a server is given."""

    def __init__(self, directory: Path) -> None:
        """Keep SQLite files in `directory`; use ARREARS_TEST_PG_URL for PostgreSQL, if set."""
        self.directory = directory
        self.postgres = os.environ.get("ARREARS_TEST_PG_URL")
        self.names = ["sqlite"] + (["postgresql"] if self.postgres else [])
        self._schemas: list[str] = []

    def fresh(self, name: str) -> Engine:
        """A new, migrated, empty database."""
        if name == "sqlite":
            engine = make_engine(f"sqlite:///{self.directory / f'{secrets.token_hex(4)}.db'}")
        else:
            assert self.postgres is not None
            schema = f"bench_{secrets.token_hex(4)}"
            self._admin(f"CREATE SCHEMA {schema}")
            self._schemas.append(schema)
            url = make_url(self.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
            engine = make_engine(url.render_as_string(hide_password=False))
        upgrade(engine)
        return engine

    def drop(self) -> None:
        """Drop the PostgreSQL schemas made (SQLite files go with the directory)."""
        for schema in self._schemas:
            self._admin(f"DROP SCHEMA {schema} CASCADE")

    def _admin(self, sql: str) -> None:
        """Run one statement on the PostgreSQL server."""
        assert self.postgres is not None
        admin = make_engine(self.postgres)
        with admin.begin() as connection:
            connection.exec_driver_sql(sql)
        admin.dispose()


def timed_import(engine: Engine, kind: FeedKind, path: Path) -> tuple[float, int]:
    """Seconds to import one file, and rows written."""
    start = time.perf_counter()
    report = import_feed(SqlLedgerStore(engine), FileFeedReader(), kind, path, PRODUCTS)
    return time.perf_counter() - start, report.inserted


def run(instalments: int) -> list[dict[str, object]]:
    """Every source into every database; one result a run."""
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="arrears-bench-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        paths = write_files(directory, synthetic_feeds(instalments))
        say(f"generated the feeds in {time.perf_counter() - start:.1f} s")
        databases = Databases(directory)
        try:
            for database in databases.names:
                for source in ("csv", "parquet"):
                    engine = databases.fresh(database)
                    result = measure(engine, paths, source)
                    engine.dispose()
                    results.append({**result, "database": database})
        finally:
            databases.drop()
    return results


def measure(engine: Engine, paths: dict[str, Path], source: str) -> dict[str, object]:
    """Import borrowers and loans, then time the instalments import and the floor."""
    setup = sum(timed_import(engine, kind, paths[kind])[0] for kind in ("borrowers", "loans"))
    path = paths["installments"] if source == "csv" else paths["parquet"]
    seconds, written = timed_import(engine, "installments", path)
    floor = floor_seconds(path)
    say(
        f"{source:>7} -> {engine.dialect.name:<10} {written:>9} instalments in {seconds:6.2f} s "
        f"({written / seconds:,.0f} rows/s); floor {floor:.2f} s, ratio {seconds / floor:.1f}; "
        f"borrowers+loans set-up {setup:.2f} s"
    )
    return {
        "installments": written,
        "source": source,
        "seconds": round(seconds, 3),
        "floor_seconds": round(floor, 3),
        "ratio": round(seconds / floor, 1),
        "rows_per_second": round(written / seconds),
    }


def say(line: str) -> None:
    """A progress line for the reader of the benchmark."""
    print(line, flush=True)


def main() -> None:
    """Parse the arguments, run, print the headline as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installments", type=int, default=1_000_000)
    results = run(parser.parse_args().installments)
    for result in results[1:]:
        say(json.dumps(result))
    # The headline last: CSV into SQLite, the default set-up.
    say(json.dumps(results[0]))


if __name__ == "__main__":
    main()

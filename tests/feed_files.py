"""Feed files for tests: a small valid book, written as CSV or as typed Parquet."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select

from arrears.adapters.db import tables
from arrears.adapters.db.bulk import FEED_TABLES
from arrears.adapters.db.ledger_store import SqlLedgerStore
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.adapters.synthetic_book import SyntheticBook
from arrears.bootstrap import App
from arrears.services.feed import FEED_KINDS, FeedKind
from arrears.services.import_feed import ImportReport, import_feed

PRODUCTS = frozenset({"cn-cash", "cn-private"})
MONEY = {"principal", "principal_due", "interest_due", "fee_due", "amount"}
RATES = {"annual_rate", "penalty_rate"}
DATES = {"contract_date", "due_date", "paid_on"}

Rows = list[list[str]]

# The book every feed test starts from: one valid file per kind (header, rows).
BOOK: dict[FeedKind, tuple[list[str], Rows]] = {
    "borrowers": (
        ["borrower_id", "name", "phone", "national_id", "email", "address", "timezone", "locale"],
        [
            ["B1", "张三", "138 1234 5678", "110101199003074514", "", "北京市朝阳区", "", "zh-CN"],
            ["B2", "Ann Lee", "+1 415 555 2671", "", "ann@example.com", "", "America/New_York", ""],
        ],
    ),
    "contacts": (
        ["contact_id", "borrower_id", "name", "phone", "relation"],
        [["C1", "B1", "李四", "13912345678", "spouse"]],
    ),
    "loans": (
        [
            "loan_id",
            "borrower_id",
            "product",
            "currency",
            "principal",
            "annual_rate",
            "penalty_rate",
            "contract_date",
            "segment",
            "score",
        ],
        [
            ["L1", "B1", "cn-cash", "CNY", "10000.00", "0.18", "", "2026-01-01", "vip", "720"],
            [
                "L2",
                "B2",
                "cn-private",
                "USD",
                "1234.56",
                "0.2399",
                "0.365",
                "2026-01-15",
                "",
                "-40",
            ],
        ],
    ),
    "installments": (
        ["loan_id", "seq", "due_date", "principal_due", "interest_due", "fee_due"],
        [
            ["L1", "1", "2026-02-01", "5000.00", "150.00", ""],
            ["L1", "2", "2026-03-01", "5000", "75.5", "10.00"],
            ["L2", "1", "2026-02-15", "1234.56", "24.68", "0"],
        ],
    ),
    "payments": (
        ["payment_id", "loan_id", "amount", "paid_on", "channel"],
        [
            ["P1", "L1", "5150.00", "2026-02-01", "bank"],
            ["P2", "L1", "0.01", "2026-02-03", ""],
            ["P3", "L2", "100.50", "2026-02-20", "alipay"],
        ],
    ),
}


def write_csv(path: Path, header: list[str], rows: Rows) -> Path:
    """A CSV feed file."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _typed(name: str, cells: list[str]) -> pa.Array:
    """A Parquet column typed as a careful exporter would type it."""
    if name in MONEY:
        return pa.array([Decimal(c) if c else None for c in cells], pa.decimal128(18, 2))
    if name in RATES:
        return pa.array([Decimal(c) if c else None for c in cells], pa.decimal128(12, 6))
    if name in DATES:
        return pa.array([date.fromisoformat(c) if c else None for c in cells], pa.date32())
    if name == "seq":
        return pa.array([int(c) if c else None for c in cells], pa.int32())
    if name == "score":
        return pa.array([int(c) if c else None for c in cells], pa.int64())
    return pa.array([c or None for c in cells], pa.string())


def write_parquet(path: Path, header: list[str], rows: Rows, *, typed: bool = True) -> Path:
    """A Parquet feed file: typed columns (decimal, date32, int) or all text."""
    columns = (
        {
            name: _typed(name, cells) if typed else pa.array(cells, pa.string())
            for name, cells in zip(header, map(list, zip(*rows, strict=True)), strict=True)
        }
        if rows
        else {name: pa.array([], pa.string()) for name in header}
    )
    pq.write_table(pa.table(columns), path)
    return path


def write_feed(directory: Path, kind: FeedKind, file_format: str) -> Path:
    """The book's feed of this kind, as `csv` or `parquet`."""
    header, rows = BOOK[kind]
    path = directory / f"{kind}.{file_format}"
    if file_format == "csv":
        return write_csv(path, header, rows)
    return write_parquet(path, header, rows)


def import_file(engine: Engine, kind: FeedKind, path: Path) -> ImportReport:
    """Import one file through the real reader and store."""
    return import_feed(SqlLedgerStore(engine), FileFeedReader(), kind, path, PRODUCTS)


def import_book(engine: Engine, directory: Path, file_format: str = "csv") -> None:
    """Import the whole book, kind after kind."""
    for kind in FEED_KINDS:
        import_file(engine, kind, write_feed(directory, kind, file_format))


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each ledger table."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in tables.metadata.sorted_tables
        }


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every feed table's rows, ordered by primary key."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in FEED_TABLES.values()
        }


def import_synthetic(app: App, book: SyntheticBook, folder: Path) -> None:
    """The synthetic book's feeds imported into the app's store, each written as a CSV file
    in `folder` first."""
    products = set(app.settings.products)
    for kind in ("borrowers", "contacts", "loans", "installments", "payments"):
        path = book.write(kind, folder / f"{kind}.csv")
        import_feed(app.ledger, FileFeedReader(), kind, path, products)

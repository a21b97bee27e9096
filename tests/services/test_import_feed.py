"""Importing feeds: CSV and Parquet alike, idempotent payments, all or nothing, progress."""

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from threading import Barrier, BrokenBarrierError

import pytest
from sqlalchemy import Connection, Engine, func, select

from arrears.adapters.db import ledger_store, tables
from arrears.adapters.db.bulk import insert_feed
from arrears.adapters.db.ledger_store import SqlLedgerStore
from arrears.adapters.feeds import sources
from arrears.adapters.feeds.parsed import FrameFeed
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.services.feed import FEED_KINDS, FeedError, FeedRejected
from arrears.services.import_feed import ImportReport, import_feed
from arrears.services.ports import FeedRows, StoredCheck, StoredKeys
from tests.feed_files import (
    BOOK,
    PRODUCTS,
    dump,
    import_book,
    import_file,
    row_counts,
    write_csv,
    write_feed,
)

# The book as stored: money in fen, rates as decimal text, phones in E.164, dates as dates.
STORED = {
    "borrowers": [
        ("B1", "张三", "+8613812345678", "110101199003074514", None, "北京市朝阳区", None, "zh-CN"),
        ("B2", "Ann Lee", "+14155552671", None, "ann@example.com", None, "America/New_York", None),
    ],
    "contacts": [("C1", "B1", "李四", "+8613912345678", "spouse")],
    "loans": [
        ("L1", "B1", "cn-cash", "CNY", 1_000_000, "0.18", None, date(2026, 1, 1), "vip", 720),
        ("L2", "B2", "cn-private", "USD", 123_456, "0.2399", "0.365", date(2026, 1, 15), None, -40),
    ],
    "installments": [
        ("L1", 1, date(2026, 2, 1), 500_000, 15_000, 0),
        ("L1", 2, date(2026, 3, 1), 500_000, 7_550, 1_000),
        ("L2", 1, date(2026, 2, 15), 123_456, 2_468, 0),
    ],
    "payments": [
        ("P1", "L1", 515_000, date(2026, 2, 1), "bank"),
        ("P2", "L1", 1, date(2026, 2, 3), None),
        ("P3", "L2", 10_050, date(2026, 2, 20), "alipay"),
    ],
}


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_every_feed_kind_imports_from_csv_and_parquet_alike(
    migrated: Engine, tmp_path: Path, file_format: str
) -> None:
    reports = [
        import_file(migrated, kind, write_feed(tmp_path, kind, file_format)) for kind in FEED_KINDS
    ]
    assert [(r.kind, r.rows_read, r.inserted, r.skipped_duplicates) for r in reports] == [
        (kind, len(BOOK[kind][1]), len(BOOK[kind][1]), 0) for kind in FEED_KINDS
    ]
    assert dump(migrated) == STORED


def test_reimporting_the_same_payments_changes_nothing(migrated: Engine, tmp_path: Path) -> None:
    import_book(migrated, tmp_path)
    before = dump(migrated)
    report = import_file(migrated, "payments", tmp_path / "payments.csv")
    assert report == ImportReport("payments", 3, 0, 3)
    assert dump(migrated) == before


def test_a_payments_file_mixing_new_and_known_payments_adds_the_new_ones(
    migrated: Engine, tmp_path: Path
) -> None:
    import_book(migrated, tmp_path)
    header, rows = BOOK["payments"]
    path = write_csv(tmp_path / "more.csv", header, [*rows, ["P4", "L2", "1.00", "2026-03-01", ""]])
    assert import_file(migrated, "payments", path) == ImportReport("payments", 4, 1, 3)
    assert row_counts(migrated)["payments"] == 4


def test_a_known_payment_with_other_values_is_refused(migrated: Engine, tmp_path: Path) -> None:
    import_book(migrated, tmp_path)
    before = dump(migrated)
    header = BOOK["payments"][0]
    path = write_csv(
        tmp_path / "again.csv",
        header,
        [["P4", "L2", "1.00", "2026-03-01", ""], ["P1", "L1", "5150.01", "2026-02-01", "bank"]],
    )
    with pytest.raises(FeedRejected) as rejection:
        import_file(migrated, "payments", path)
    assert rejection.value.errors == [
        FeedError(
            3,
            "payment_id",
            "payment P1 already imported with amount 5150.00 on 2026-02-01 for loan L1",
        )
    ]
    assert dump(migrated) == before


def test_one_bad_row_at_the_end_of_a_long_file_writes_nothing(
    migrated: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "CSV_BLOCK_BYTES", 4096)  # many batches
    import_book(migrated, tmp_path)
    before = row_counts(migrated)
    rows = [[f"X{i}", "L1", "1.00", "2026-02-01", ""] for i in range(5000)]
    rows[-1][2] = "-1.00"
    path = write_csv(tmp_path / "long.csv", BOOK["payments"][0], rows)
    with pytest.raises(FeedRejected) as rejection:
        import_file(migrated, "payments", path)
    assert rejection.value.errors == [FeedError(5001, "amount", "-1.00 is negative")]
    assert str(rejection.value) == (
        "long.csv: payments feed refused, nothing imported\n"
        "long.csv row 5001, column amount: -1.00 is negative"
    )
    assert row_counts(migrated) == before


def test_progress_counts_each_row_read_then_written(migrated: Engine, tmp_path: Path) -> None:
    import_book(migrated, tmp_path)
    header = BOOK["payments"][0]
    rows = [[f"X{i}", "L1", "1.00", "2026-02-01", ""] for i in range(10)]
    calls: list[tuple[int, int]] = []
    import_feed(
        SqlLedgerStore(migrated),
        FileFeedReader(),
        "payments",
        write_csv(tmp_path / "ten.csv", header, rows),
        PRODUCTS,
        lambda *call: calls.append(call),
    )
    assert calls[0] == (10, 20)
    assert calls[-1] == (20, 20)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_clash_with_a_concurrent_import_is_reported_as_a_rejection(
    migrated: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another writer's P9 appears between the check and the write (on PostgreSQL payments'
    # imports do not take turns: the database refuses the second key).
    import_book(migrated, tmp_path)
    other = {"payment_id": "P9", "loan_id": "L1", "amount": 1, "paid_on": date(2026, 2, 1)}

    def raced(
        connection: Connection, rows: FeedRows, progress: Callable[[int], None] | None
    ) -> None:
        connection.execute(tables.payments.insert(), other)
        insert_feed(connection, rows, progress)

    monkeypatch.setattr(ledger_store, "insert_feed", raced)
    rows = [["P8", "L1", "1.00", "2026-02-01", ""], ["P9", "L1", "1.00", "2026-02-01", ""]]
    path = write_csv(tmp_path / "p.csv", BOOK["payments"][0], rows)
    with pytest.raises(FeedRejected, match="another import ran at the same time"):
        import_feed(SqlLedgerStore(migrated), FileFeedReader(), "payments", path, PRODUCTS)
    assert row_counts(migrated)["payments"] == 3  # nothing of the file's, nor of the clash's


def test_instalments_imported_at_once_never_schedule_more_than_the_loan_lent(
    migrated: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two files, each scheduling 6,000.00 more of L3's principal, imported at the same time:
    # each check found the other's rows absent, and both were written, 12,000.00 scheduled
    # against 10,000.00 lent (helper-59). The second now checks once the first is written.
    # Each check waits (up to a second) for the other to be checking too: both are, unless
    # the store makes them take turns.
    import_book(migrated, tmp_path)
    loan = ["L3", "B1", "cn-cash", "CNY", "10000.00", "0.18", "", "2026-01-01", "", ""]
    import_file(migrated, "loans", write_csv(tmp_path / "l3.csv", BOOK["loans"][0], [loan]))
    both = Barrier(2)
    checked = FrameFeed.check_stored

    def meeting(feed: FrameFeed, stored: StoredKeys) -> StoredCheck:
        with contextlib.suppress(BrokenBarrierError):
            both.wait(timeout=1)
        return checked(feed, stored)

    monkeypatch.setattr(FrameFeed, "check_stored", meeting)
    header = BOOK["installments"][0]
    paths = [
        write_csv(
            tmp_path / f"i{n}.csv", header, [["L3", str(n), "2026-09-01", "6000.00", "0", ""]]
        )
        for n in (1, 2)
    ]

    def load(path: Path) -> str:
        try:
            import_feed(SqlLedgerStore(migrated), FileFeedReader(), "installments", path, PRODUCTS)
        except FeedRejected as rejected:
            return str(rejected)
        return "written"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(load, paths))
    assert outcomes.count("written") == 1, outcomes
    assert "more than" in next(o for o in outcomes if o != "written")
    with migrated.connect() as connection:
        scheduled = connection.execute(
            select(func.sum(tables.installments.c.principal_due)).where(
                tables.installments.c.loan_id == "L3"
            )
        ).scalar_one()
        lent = connection.execute(
            select(tables.loans.c.principal).where(tables.loans.c.loan_id == "L3")
        ).scalar_one()
    assert scheduled <= lent

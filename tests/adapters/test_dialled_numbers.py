"""A Parquet book's contact attempts may name the number dialled as written nationally, or not
at all (`to_phone` is optional): the night's dial cap counts them against the borrower's own
number as it counts one written in E.164 (CONTRACT.md: the dial cap counts every call attempt
to that phone number), on the whole-book read and on a night alike."""

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.synthetic_frames import write_book
from tests.adapters.test_parquet_store import AS_OF, TABLES, YESTERDAY, run

CAP = "cn.dial_attempts_per_number_per_day"


def _calls_planned(store: ParquetEngineStore, borrower: str) -> pl.DataFrame:
    """The calls the run of AS_OF planned for `borrower`."""
    plan = store.table(AS_OF, "plan")
    return plan.filter((pl.col("borrower_id") == borrower) & (pl.col("channel") == "call"))


@pytest.mark.parametrize("written", ["e164", "national", "none"])
@pytest.mark.parametrize("when", ["whole book", "night"])
def test_six_calls_today_to_the_borrowers_number_stop_a_seventh(
    tmp_path: Path, written: str, when: str
) -> None:
    # A borrower whose call the book plans today, and when its window opens.
    plain = ParquetEngineStore(write_book(TABLES, tmp_path / "plain"))
    run(plain, AS_OF)
    planned = plain.table(AS_OF, "plan").filter(pl.col("channel") == "call")
    borrower, start = planned.select("borrower_id", "window_start").row(0)
    phone = TABLES["borrowers"].filter(pl.col("borrower_id") == borrower).item(0, "phone")
    assert phone.startswith("+86")
    to = {"e164": phone, "national": phone.removeprefix("+86"), "none": None}[written]
    schema = TABLES["contact_attempts"].schema
    six = pl.DataFrame({
        "borrower_id": [borrower] * 6, "contact_id": [None] * 6, "channel": ["call"] * 6,
        "to_phone": [to] * 6, "at": [start + timedelta(minutes=m) for m in range(6)],
        "outcome": ["no_answer"] * 6,
    }).select(list(schema)).cast(schema)  # fmt: skip
    called = pl.concat([TABLES["contact_attempts"], six])
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    if when == "night":
        run(store, YESTERDAY)
    called.write_parquet(store.folder.root / "contact_attempts.parquet")
    run(store, AS_OF)
    assert _calls_planned(store, borrower).height == 0, (written, to)
    blocked = store.table(AS_OF, "blocked")
    loans = planned.filter(pl.col("borrower_id") == borrower).get_column("loan_id")
    refused = blocked.filter(pl.col("loan_id").is_in(loans.implode()) & (pl.col("rule") == CAP))
    assert refused.height == loans.len()


@pytest.mark.parametrize("when", ["whole book", "night"])
def test_calls_without_their_number_count_for_the_other_borrower_of_the_number(
    tmp_path: Path, when: str
) -> None:
    """Another borrower given the planned borrower's number (a family's one phone) was called
    six times today, on record without the number: those calls rang it, so the planned
    borrower's call would be its seventh today (CBA 2026: at most 6 a day to a number)."""
    plain = ParquetEngineStore(write_book(TABLES, tmp_path / "plain"))
    run(plain, AS_OF)
    planned = plain.table(AS_OF, "plan").filter(pl.col("channel") == "call")
    borrower, start = planned.select("borrower_id", "window_start").row(0)
    borrowers = TABLES["borrowers"]
    phone = borrowers.filter(pl.col("borrower_id") == borrower).item(0, "phone")
    other = borrowers.filter(pl.col("borrower_id") != borrower).item(0, "borrower_id")
    shared = pl.when(pl.col("borrower_id") == other).then(pl.lit(phone)).otherwise("phone")
    tables = {**TABLES, "borrowers": borrowers.with_columns(shared.alias("phone"))}
    schema = TABLES["contact_attempts"].schema
    six = pl.DataFrame({
        "borrower_id": [other] * 6, "contact_id": [None] * 6, "channel": ["call"] * 6,
        "to_phone": [None] * 6, "at": [start - timedelta(hours=1, minutes=m) for m in range(6)],
        "outcome": ["no_answer"] * 6,
    }).select(list(schema)).cast(schema)  # fmt: skip
    called = pl.concat([TABLES["contact_attempts"], six])
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    if when == "night":
        run(store, YESTERDAY)
    called.write_parquet(store.folder.root / "contact_attempts.parquet")
    run(store, AS_OF)
    assert _calls_planned(store, borrower).height == 0
    loans = planned.filter(pl.col("borrower_id") == borrower).get_column("loan_id")
    blocked = store.table(AS_OF, "blocked").filter(pl.col("loan_id").is_in(loans.implode()))
    assert blocked.filter(pl.col("rule") == CAP).height == loans.len()
    assert "(6 for other borrowers of the number)" in blocked.filter(pl.col("rule") == CAP).item(
        0, "detail"
    )


def test_calls_the_borrower_made_are_read_from_a_book_as_conversations_not_dials(
    tmp_path: Path,
) -> None:
    """Six calls the borrower made today, on record without a number (outcome `inbound`, an
    extension of the contract's call outcomes): effective conversations, so no call is
    planned (GB/T 45251-2025: three a day, the cn pack counting those the debtor starts too),
    but no dials: the dial cap (six a day to a number) does not refuse the call."""
    plain = ParquetEngineStore(write_book(TABLES, tmp_path / "plain"))
    run(plain, AS_OF)
    planned = plain.table(AS_OF, "plan").filter(pl.col("channel") == "call")
    borrower, start = planned.select("borrower_id", "window_start").row(0)
    schema = TABLES["contact_attempts"].schema
    six = pl.DataFrame({
        "borrower_id": [borrower] * 6, "contact_id": [None] * 6, "channel": ["call"] * 6,
        "to_phone": [None] * 6, "at": [start - timedelta(hours=1, minutes=m) for m in range(6)],
        "outcome": ["inbound"] * 6,
    }).select(list(schema)).cast(schema)  # fmt: skip
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    pl.concat([TABLES["contact_attempts"], six]).write_parquet(
        store.folder.root / "contact_attempts.parquet"
    )
    run(store, AS_OF)
    assert _calls_planned(store, borrower).height == 0
    loans = planned.filter(pl.col("borrower_id") == borrower).get_column("loan_id")
    blocked = store.table(AS_OF, "blocked").filter(pl.col("loan_id").is_in(loans.implode()))
    assert set(blocked.get_column("rule")) == {"cn.connected_calls_per_day"}

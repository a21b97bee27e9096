"""A loan signed after the run's day is not lent yet: in no collection stage and no bucket, sent
nothing, until the night of its contract date (Parquet, night by night and at once)."""

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.run import run_day
from arrears.bootstrap import App

AS_OF = date(2025, 11, 10)  # the shipped LPR table covers the days after it
SIGNED = AS_OF + timedelta(days=2)  # the late loans' contract date
AT = datetime(2025, 11, 12, 23, tzinfo=UTC)
LATE = 12  # loans signed on SIGNED, the first instalment due the day after


def late_book(folder: Path) -> tuple[Path, list[str]]:
    """A synthetic book whose first LATE loans are signed on SIGNED, each due a day later
    and monthly after (a pre-due reminder is due on every day before it)."""
    tables = synthetic_frames(80, AS_OF, seed=5)
    late = tables["loans"].head(LATE).get_column("loan_id")
    mine = pl.col("loan_id").is_in(late.implode())
    tables["loans"] = tables["loans"].with_columns(
        pl.when(mine).then(pl.lit(SIGNED)).otherwise("contract_date").alias("contract_date")
    )
    first = pl.lit(SIGNED + timedelta(days=1))
    tables["installments"] = tables["installments"].with_columns(
        pl.when(mine).then(first.dt.offset_by(pl.format("{}mo", pl.col("seq") - 1)))
        .otherwise("due_date").alias("due_date")
    )  # fmt: skip
    borrowers = tables["loans"].filter(mine).get_column("borrower_id").implode()
    tables["contact_attempts"] = tables["contact_attempts"].filter(
        ~pl.col("borrower_id").is_in(borrowers)
    )
    for kind in ("payments", "promises"):
        tables[kind] = tables[kind].filter(~mine)
    return write_book(tables, folder), late.to_list()


def night(store: ParquetEngineStore, day: date) -> dict[str, Any]:
    return run_day(store, App("sqlite://", load_settings(None)).run_context(day), AT)


def test_a_loan_signed_later_is_sent_nothing_and_counted_in_no_bucket_until_lent(
    tmp_path: Path,
) -> None:
    folder, late = late_book(tmp_path / "nightly")
    whole = shutil.copytree(folder, tmp_path / "whole")
    store = ParquetEngineStore(folder)
    for day in (AS_OF, AS_OF + timedelta(days=1)):
        summary = night(store, day)
        cases = store.table(day, "cases").filter(pl.col("loan_id").is_in(late))
        assert cases.get_column("stage").cast(pl.String).to_list() == ["not_lent"] * LATE
        assert set(cases.get_column("reason").cast(pl.String)) == {"loan not yet lent"}
        planned = store.table(day, "plan").filter(pl.col("loan_id").is_in(late))
        assert planned.height == 0, planned
        assert summary["stages"]["not_lent"] == LATE
        assert sum(summary["buckets"].values()) == summary["loans"] - LATE
    # Lent tonight, due tomorrow: the pre-due reminder goes out, the loan is in M0.
    lent = night(store, SIGNED)
    cases = store.table(SIGNED, "cases").filter(pl.col("loan_id").is_in(late))
    assert set(cases.get_column("stage").cast(pl.String)) == {"pre_due"}
    assert set(cases.get_column("entered_on")) == {SIGNED}
    planned = store.table(SIGNED, "plan").filter(pl.col("loan_id").is_in(late))
    assert sorted(planned.get_column("loan_id")) == sorted(late)
    assert set(planned.get_column("template")) == {"cn.pre_due_reminder"}
    assert "not_lent" not in lent["stages"]
    assert sum(lent["buckets"].values()) == lent["loans"]
    # The nights the loans rested through wake them on their contract date: as one run of
    # the day does (the other loans' cases entered their stages on other days).
    at_once = ParquetEngineStore(whole)
    assert night(at_once, SIGNED)["buckets"] == lent["buckets"]
    for name in ("cases", "plan"):
        mine, theirs = (s.table(SIGNED, name).filter(pl.col("loan_id").is_in(late))
                        for s in (store, at_once))  # fmt: skip
        assert_frame_equal(mine, theirs, check_row_order=False)
    assert_frame_equal(store.table(SIGNED, "loan_states"), at_once.table(SIGNED, "loan_states"),
                       check_row_order=False)  # fmt: skip

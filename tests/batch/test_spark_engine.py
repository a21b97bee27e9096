"""Spark (local mode) and the local engine write the same run, row for row, day after day."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.adapters.book_folder import BookFolderError
from arrears.adapters.book_tables import ORDER, OUTPUTS
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.spark_engine import SparkEngine, spark_session
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.run import run_day
from arrears.bootstrap import App

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def spark() -> Iterator["SparkSession"]:
    """One local Spark for the whole test session (it takes seconds to start)."""
    session = spark_session("local[2]", shuffle_partitions=2)
    yield session
    session.stop()


def test_spark_and_local_engines_write_the_same_tables(
    spark: "SparkSession", tmp_path: Path
) -> None:
    # 60 loans signed over five months, some never paid: stages up to "late", blocked actions.
    tables = synthetic_frames(60, AS_OF, seed=4, history_days=150)
    local = ParquetEngineStore(write_book(tables, tmp_path / "local"))
    on_spark = SparkEngine(spark, write_book(tables, tmp_path / "spark"), buckets=3)
    written = ParquetEngineStore(tmp_path / "spark")
    app = App("sqlite://", load_settings(None))
    blocked = 0
    # The first day runs every loan from its contract; the second goes on from stored state.
    for day in (AS_OF - timedelta(days=1), AS_OF):
        ctx = app.run_context(day)
        assert run_day(local, ctx, AT) == on_spark.run_day(ctx, AT)
        for name in OUTPUTS:
            mine, theirs = local.table(day, name), written.table(day, name)
            assert_frame_equal(mine.sort(ORDER[name]), theirs.sort(ORDER[name]))
        assert local.table(day, "plan").height > 0
        blocked += local.table(day, "blocked").height
    assert blocked > 0


def test_the_engines_can_take_turns_on_one_book(spark: "SparkSession", tmp_path: Path) -> None:
    """Local, then Spark from the local engine's base state, then local again after Spark's
    full state: every table and summary as if the local engine had run every night."""
    tables = synthetic_frames(60, AS_OF, seed=9, history_days=150)
    turns = write_book(tables, tmp_path / "turns")
    local_only = ParquetEngineStore(write_book(tables, tmp_path / "local"))
    mixed = ParquetEngineStore(turns)
    app = App("sqlite://", load_settings(None))
    days = [AS_OF - timedelta(days=2), AS_OF - timedelta(days=1), AS_OF]
    for day, engine in zip(days, ("local", "spark", "local"), strict=True):
        ctx = app.run_context(day)
        if engine == "spark":
            summary = SparkEngine(spark, turns, buckets=3).run_day(ctx, AT)
        else:
            summary = run_day(mixed, ctx, AT)
        assert summary == run_day(local_only, ctx, AT), (day, engine)
        for name in OUTPUTS:
            mine, theirs = mixed.table(day, name), local_only.table(day, name)
            assert_frame_equal(mine.sort(ORDER[name]), theirs.sort(ORDER[name]))
    assert [r.kind for r in mixed.folder.runs()] == ["base", "full", "base"]


def test_spark_refuses_what_no_bucket_can_see(spark: "SparkSession", tmp_path: Path) -> None:
    # A loan given twice for two borrowers, and an instalment of no loan: each bucket sees a
    # consistent part; only the whole book shows them.
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    loans, borrowers = tables["loans"], tables["borrowers"].get_column("borrower_id")
    twice = loans.head(1).with_columns(pl.lit(borrowers[-1]).alias("borrower_id"))
    stray = tables["installments"].head(1).with_columns(pl.lit("NO-LOAN").alias("loan_id"))
    app = App("sqlite://", load_settings(None))
    for name, changed, message in (
        ("loans", pl.concat([loans, twice]), "input loans: given twice: L00000001"),
        ("installments", pl.concat([tables["installments"], stray]),
         "input installments: a loan not in loans: NO-LOAN"),
    ):  # fmt: skip
        book = write_book({**tables, name: changed}, tmp_path / name)
        with pytest.raises(BookFolderError, match=message):
            SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
        assert ParquetEngineStore(book).folder.runs() == []

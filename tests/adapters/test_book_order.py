"""The order rows come in is no input: a book folder's inputs in any order, and a Spark
bucket's schedule with its stored state in the same order that is not the book's, run the
same nights as rows in loan order."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from arrears.adapters.book_tables import ORDER, OUTPUTS, assemble, outputs, state_outputs, typed
from arrears.adapters.parquet_store import ParquetEngineStore, pack_zones
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.book import PAYMENT_SCHEMA
from arrears.batch.pipeline import run_pipeline
from arrears.batch.run import run_day
from arrears.bootstrap import App

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)
APP = App("sqlite://", load_settings(None))


def _shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def test_a_book_whose_inputs_are_in_no_order_runs_as_one_in_loan_order(tmp_path: Path) -> None:
    tables = synthetic_frames(60, AS_OF, seed=5, history_days=150)
    mixed = {name: _shuffled(frame, seed) for seed, (name, frame) in enumerate(tables.items())}
    ordered = ParquetEngineStore(write_book(tables, tmp_path / "ordered"))
    unordered = ParquetEngineStore(write_book(mixed, tmp_path / "unordered"))
    for day in (AS_OF - timedelta(days=1), AS_OF):
        ctx = APP.run_context(day)
        assert run_day(unordered, ctx, AT) == run_day(ordered, ctx, AT)
        mine, theirs = ordered.tables(day, list(OUTPUTS)), unordered.tables(day, list(OUTPUTS))
        for name in OUTPUTS:
            assert mine[name].sort(ORDER[name]).equals(theirs[name].sort(ORDER[name])), name


def test_a_schedule_and_its_state_in_the_same_order_not_the_books_run_as_in_order(
    tmp_path: Path,
) -> None:
    """As a Spark bucket may get them: each loan's lines last to first, the stored state in
    that order too (so they line up row for row and are laid side by side)."""
    tables = synthetic_frames(60, AS_OF, seed=5, history_days=150)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    run_day(store, APP.run_context(AS_OF - timedelta(days=1)), AT)
    state = store.full_state(store.folder.runs()[-1])
    ctx = APP.run_context(AS_OF)

    def night(schedule_order: list[pl.Expr]) -> dict[str, pl.DataFrame]:
        inputs = {**tables, "installments": tables["installments"].sort(schedule_order)}
        stored = {**state, "instalment_states": state["instalment_states"].sort(schedule_order)}
        frames = run_pipeline(assemble(inputs, stored, AS_OF, ctx.terms, pack_zones()), ctx)
        return outputs(frames) | state_outputs(frames, typed(inputs["payments"], PAYMENT_SCHEMA))

    ordered = night([pl.col("loan_id"), pl.col("seq")])
    backwards = night([pl.col("loan_id"), -pl.col("seq")])
    assert ordered["allocations"].height > 0
    for name in ORDER:
        if name in ordered:
            mine, theirs = ordered[name].sort(ORDER[name]), backwards[name].sort(ORDER[name])
            assert mine.equals(theirs), name

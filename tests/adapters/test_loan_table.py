"""A chain's loan table gives every column of any loan as the whole table has it, whether the
rows were picked (read at once for the loans a night works) or are read when asked for."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.adapters.book_views import chain_of
from arrears.adapters.loan_table import EVERY_LOAN, OWNERS, SCHEMA, read_chain
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.run import run_day
from arrears.bootstrap import App

AS_OF = date(2025, 11, 18)
CONTEXT = App("sqlite://", load_settings(None))


@pytest.fixture(scope="module")
def chained_book(tmp_path_factory: pytest.TempPathFactory) -> ParquetEngineStore:
    """A book run on three nights: a base and two deltas over it."""
    folder = write_book(synthetic_frames(60, AS_OF, seed=7, history_days=150),
                        tmp_path_factory.mktemp("chain") / "book")  # fmt: skip
    store = ParquetEngineStore(folder)
    for back in (6, 3, 0):
        day = AS_OF - timedelta(days=back)
        run_day(store, CONTEXT.run_context(day), datetime(2025, 11, 18, 23, tzinfo=UTC))
    return store


def test_the_chain_has_deltas_laid_over_its_base(chained_book: ParquetEngineStore) -> None:
    kinds = [r.kind for r in chained_book.folder.runs()]
    assert kinds == ["base", "delta", "delta"]
    table = read_chain(chained_book.folder.state, _chain(chained_book))
    assert table.frame.columns == [*OWNERS, *EVERY_LOAN]
    assert (table.latest >= 0).any(), "some loan was rewritten by a delta"


@pytest.mark.parametrize("picked", [False, True])
def test_rows_are_the_whole_tables_rows(chained_book: ParquetEngineStore, picked: bool) -> None:
    table = read_chain(chained_book.folder.state, _chain(chained_book))
    whole = table.whole()
    # Loans last written by the base, by the first delta and by the second (the deltas' rows
    # lie one after the other): two of each, unsorted, one asked twice.
    first = chained_book.folder.runs()[1]
    ends = pl.scan_parquet(chained_book.folder.table_path(first, "loans")).select(pl.len())
    written = np.where(table.latest < 0, -1, np.where(table.latest < ends.collect().item(), 0, 1))
    mixed = [np.flatnonzero(written == k)[:2] for k in (-1, 0, 1)]
    assert all(found.size == 2 for found in mixed)
    at = np.concatenate([*mixed[::-1], mixed[1][:1]])
    columns = ["principal", "loan_id", "wake_on", "payments_sum", "stage", "seg_row"]
    if picked:
        table = table.picking(np.concatenate([at, [21]]), columns)
        assert table.picked.shape == (7, 3)  # the three not read for every loan
    assert_frame_equal(table.rows(at, columns), whole.select(columns)[at])
    assert_frame_equal(table.rows(at, list(SCHEMA)), whole[at])
    assert_frame_equal(table.rows(at[:0], columns), whole.select(columns).clear())


def _chain(store: ParquetEngineStore) -> list[str]:
    return chain_of(store.folder, store.folder.runs()[-1])


def test_a_table_without_parts_reads_empty(tmp_path: Path) -> None:
    (tmp_path / "run-x" / "loans").mkdir(parents=True)
    table = read_chain(tmp_path, ["run-x"])
    assert table.frame.height == 0
    assert table.whole().columns == list(SCHEMA)
    assert table.rows(np.zeros(0, dtype=np.int64), ["principal"]).height == 0


@pytest.mark.parametrize(
    ("column", "value"), [("daily_penalty", 0), ("currency", None), ("cap_total", None)]
)
def test_a_table_an_earlier_version_wrote_reads_with_a_column_added_since(
    chained_book: ParquetEngineStore, tmp_path: Path, column: str, value: object
) -> None:
    """Loan tables written before loans rested past due have no `daily_penalty`, those
    written before books named currencies no `currency`, and those written before limits on
    total charges no `cap_total`: every path that reads them gives 0 for the first (such a
    loan was worked every night), no currency for the second, no limit for the third, and
    the rest as is."""
    chain = _chain(chained_book)
    state = tmp_path / "state"
    for folder in chain:
        source = chained_book.folder.state / folder / "loans" / "part-0.parquet"
        (state / folder / "loans").mkdir(parents=True)
        older = pl.read_parquet(source)
        if column in older.columns:  # (a delta holds only the columns that change)
            older = older.drop(column)
        older.write_parquet(state / folder / "loans" / "part-0.parquet")
    now = read_chain(chained_book.folder.state, chain)
    then = read_chain(state, chain)
    if column in now.frame.columns:  # (a column read for every loan; cap_total is not)
        assert then.frame.get_column(column).to_list() == [value] * then.frame.height
    assert_frame_equal(then.frame.drop(column, strict=False), now.frame.drop(column, strict=False))
    assert then.whole().columns == list(SCHEMA)
    assert then.whole().schema == now.whole().schema
    assert_frame_equal(then.whole().drop(column), now.whole().drop(column))
    at = np.arange(0, then.frame.height, 7)
    picked = then.picking(at, [column, "principal"])
    for table in (then, picked):
        rows = table.rows(at, ["principal", column])
        assert rows.get_column(column).to_list() == [value] * at.size
        assert_frame_equal(rows.select("principal"), now.rows(at, ["principal"]))

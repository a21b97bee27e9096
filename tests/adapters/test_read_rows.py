"""Rows of a Parquet table picked by their numbers come back as the whole table has them."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from arrears.adapters import book_folder
from arrears.adapters.book_folder import read_rows

ROWS = 400_000


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        # Stretches of rows (start, length), some far apart (the scan skips the gaps), some
        # many (more than it tells apart: the widest gaps are skipped).
        st.tuples(st.integers(0, 2 * ROWS - 1), st.integers(1, 300)),
        min_size=1,
        max_size=120,
    )
)
def test_rows_picked_are_the_tables_rows(tmp_path: Path, stretches: list[tuple[int, int]]) -> None:
    parts = _parts(tmp_path)
    rows = np.unique(np.concatenate([np.arange(a, min(a + n, 2 * ROWS)) for a, n in stretches]))
    whole = pl.concat([pl.read_parquet(p) for p in parts])
    assert_frame_equal(read_rows(parts, rows), whole[rows])
    assert_frame_equal(read_rows(parts, rows, ["b"]), whole.select("b")[rows])


def _parts(folder: Path) -> list[Path]:
    """Two parts of a table (row numbers run on from one part into the next)."""
    parts = [folder / "part-0.parquet", folder / "part-1.parquet"]
    if not parts[1].exists():
        for n, part in enumerate(parts):
            start = n * ROWS
            pl.DataFrame({
                "a": np.arange(start, start + ROWS), "b": (np.arange(ROWS) * 7 + n) % 1000,
            }).write_parquet(part, row_group_size=16_384)  # fmt: skip
    return parts


def test_rows_in_more_stretches_than_the_scan_tells_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(book_folder, "_GAP", 100)  # 500 stretches, 1,595 rows apart
    parts = _parts(tmp_path)
    rows = np.arange(0, 2 * ROWS, 1_600)[:500, None] + np.arange(5)
    rows = rows.ravel()
    whole = pl.concat([pl.read_parquet(p) for p in parts])
    assert len(book_folder._stretches(rows)) == book_folder._MOST_STRETCHES
    assert_frame_equal(read_rows(parts, rows), whole[rows])

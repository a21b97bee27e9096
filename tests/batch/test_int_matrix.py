"""ledger_arrays.int_matrix against Polars' own cast of the same columns."""

from datetime import date

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from arrears.batch.ledger_arrays import int_matrix

_DAYS = st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2100, 12, 31)))
_AMOUNTS = st.one_of(st.none(), st.integers(-(2**62), 2**62))
_FLAGS = st.one_of(st.none(), st.booleans())


@given(st.lists(st.tuples(_DAYS, _AMOUNTS, _FLAGS), max_size=50), st.integers(-5, 5))
def test_columns_are_polars_casts_with_the_nulls_filled(
    rows: list[tuple[date | None, int | None, bool | None]], fill: int
) -> None:
    frame = pl.DataFrame(rows, schema={"due": pl.Date, "amount": pl.Int64, "flag": pl.Boolean},
                         orient="row")  # fmt: skip
    got = int_matrix(frame, ["flag", "due", "amount"], {"due": fill})
    expected = frame.select(
        pl.col("flag").cast(pl.Int64).fill_null(0),
        pl.col("due").to_physical().cast(pl.Int64).fill_null(fill),
        pl.col("amount").fill_null(0),
    ).to_numpy()
    assert got.dtype == np.int64
    assert got.shape == (len(rows), 3)
    assert got.tolist() == expected.tolist()
    # The ledger's kernel writes into it column by column.
    assert got.flags.f_contiguous
    assert got.flags.writeable


def test_given_values_take_the_place_of_the_frames_column() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3], "b": [None, 5, None]})
    got = int_matrix(frame, ["a", "b", "c"], {"b": -1}, {"a": np.array([7, 8, 9]), "c": 0})
    assert got.tolist() == [[7, -1, 0], [8, 5, 0], [9, -1, 0]]

"""The run's charges as written: one record per line, kind and span, the one posted last."""

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from arrears.adapters.book_tables import _last_of_each

KEYS = ["loan_position", "seq", "kind", "first_day"]
Row = tuple[int, int, str, int | None]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 3), st.sampled_from(["penalty", "fee"]),
                          st.none() | st.integers(0, 2)), max_size=40))  # fmt: skip
def test_the_last_posted_record_of_each_key_is_kept_in_key_order(rows: list[Row]) -> None:
    frame = pl.DataFrame(rows, schema=KEYS, orient="row").with_row_index("posted")
    kept = _last_of_each(frame, KEYS)
    expected = frame.unique(KEYS, keep="last", maintain_order=True).sort(KEYS)
    assert kept.equals(expected)
    assert kept.select(KEYS).is_duplicated().sum() == 0


def test_a_record_posted_again_replaces_the_first() -> None:
    frame = pl.DataFrame({
        "loan_position": [1, 0, 1], "seq": [2, 1, 2], "kind": ["penalty"] * 3,
        "first_day": [5, 5, 5], "amount": [100, 7, 300],
    })  # fmt: skip
    kept = _last_of_each(frame, KEYS)
    assert kept.get_column("amount").to_list() == [7, 300]

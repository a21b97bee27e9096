"""The run's postings as written: one charge per line, kind and span (the one posted last);
cuts and allocations summed by their keys, in key order."""

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from arrears.adapters.book_tables import _last_of_each, _summed

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


PAID = st.tuples(st.integers(0, 3), st.sampled_from(["p2", "p10", "p1"]), st.integers(1, 2),
                 st.sampled_from(["fees", "principal"]), st.integers(-5, 50))  # fmt: skip


@given(st.lists(PAID, max_size=30))
def test_amounts_of_equal_keys_are_summed_in_key_order(
    rows: list[tuple[int, str, int, str, int]],
) -> None:
    keys = ["loan_position", "payment_id", "seq", "component"]
    frame = pl.DataFrame(rows, schema=[*keys, "amount"], orient="row")
    summed = _summed(frame.with_columns(pl.lit("L").alias("loan_id")), keys)
    expected = frame.group_by(keys).agg(pl.col("amount").sum()).sort(keys)
    assert summed.equals(expected)


def test_an_allocation_split_in_two_records_is_written_as_one() -> None:
    frame = pl.DataFrame({
        "loan_position": [2, 0, 2], "payment_id": ["P9", "P1", "P9"], "seq": [1, 1, 1],
        "component": ["interest"] * 3, "amount": [40, 7, 60],
    })  # fmt: skip
    summed = _summed(frame, ["loan_position", "payment_id", "seq", "component"])
    assert summed.rows() == [(0, "P1", 1, "interest", 7), (2, "P9", 1, "interest", 100)]

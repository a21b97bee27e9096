"""Which loans a night works (book_night.split), and what it tells the run summary of those it
leaves resting (book_night.stored)."""

import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters.book_night import Tonight, split, stored
from arrears.adapters.loan_table import ChainTable
from arrears.batch.ledger_arrays import day_number
from arrears.batch.pipeline import NO_BUCKET
from arrears.domain.delinquency import BUCKETS, bucket_for

AS_OF = date(2025, 11, 18)
LAST = AS_OF - timedelta(days=3)

loans = st.lists(
    st.tuples(
        st.sampled_from(["worked", "rebuilt", "resting"]),
        st.one_of(st.none(), st.integers(-5, 400)),  # days since its oldest date owing
        st.integers(0, 15),  # grace days
        st.integers(0, 900),  # daily penalty
        # Its case: a ladder's stage, or the not-lent stage (signed after AS_OF); none (a
        # product without a ladder), signed before or after AS_OF.
        st.sampled_from(["staged", "not_lent", "unstaged", "unstaged_later"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(loans)
def test_a_resting_loan_tells_its_bucket_and_the_penalty_of_its_resting_days(
    rows: list[tuple[str, int | None, int, int, str]],
) -> None:
    kinds = np.array([kind for kind, *_ in rows])
    cases = [case for *_, case in rows]
    table = pl.DataFrame({
        "loan_id": [f"L{i:03}" for i in range(len(rows))],
        "oldest": [None if back is None else AS_OF - timedelta(days=back) for _, back, *_ in rows],
        "grace_days": [grace for *_, grace, _, _ in rows],
        "daily_penalty": [daily for *_, daily, _ in rows],
        "product": [f"p{i % 2}" for i in range(len(rows))],
        "stage": [{"staged": "current", "not_lent": "not_lent"}.get(case) for case in cases],
    }, schema_overrides={"oldest": pl.Date, "product": pl.Categorical,
                         "stage": pl.Categorical})  # fmt: skip
    later = [case in ("not_lent", "unstaged_later") for case in cases]
    signed = [AS_OF + timedelta(days=3 if late else -40) for late in later]
    worked, rebuilt = np.flatnonzero(kinds == "worked"), np.flatnonzero(kinds == "rebuilt")
    carried = worked * 7  # what worked_book found each worked loan's resting days added
    none = np.zeros(0, dtype=np.int64)  # no payments
    tonight = Tonight(worked, rebuilt, np.zeros(worked.size, dtype=np.int64), LAST, none)
    with tempfile.TemporaryDirectory() as folder:
        # The loan table's base file, which holds the contract dates the night reads of the
        # loans of a product without a ladder.
        base = Path(folder) / "part-0.parquet"
        pl.DataFrame({"contract_date": signed}).write_parquet(base)
        chained = ChainTable([base], pl.DataFrame(), np.zeros(0, dtype=np.int64), table)
        got = stored(chained, tonight, carried, AS_OF)
    for i, (kind, back, grace, daily, _) in enumerate(rows):
        row = got.row(i, named=True)
        assert row["worked"] == (kind != "resting")
        if kind == "resting" and later[i]:  # not lent yet: in no bucket
            assert row["bucket"] == NO_BUCKET
        elif kind == "resting" and back is not None:
            assert BUCKETS[row["bucket"]] == bucket_for(max(back, 0), grace)
        else:  # worked, or nothing past due: M0
            assert row["bucket"] is None
        expected = {"worked": i * 7, "rebuilt": 0, "resting": daily * 3}[kind]
        assert row["rested_penalty"] == expected
        # What the limitation rule reads of a resting loan (batch/time_barred.py).
        assert (row["product"], row["oldest"]) == (f"p{i % 2}", table["oldest"][i])


def test_a_night_works_the_loans_woken_or_paid_and_rebuilds_those_paid_back_dated() -> None:
    today, last = AS_OF, LAST
    table = pl.DataFrame({
        "loan_id": [f"L{i}" for i in range(6)],
        "wake_on": [today, None, today + timedelta(days=3), today - timedelta(days=2), None,
                    today + timedelta(days=1)],
    }, schema_overrides={"wake_on": pl.Date})  # fmt: skip
    payments = pl.DataFrame({
        "payment_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "paid_on": [today, last, today, today, last + timedelta(days=1), today],
    })  # fmt: skip
    paid_at = np.array([1, 2, 2, 3, 3, 5])
    tonight = split(table, payments, paid_at, last, today, np.empty(0, dtype=np.int64))
    assert tonight.worked.tolist() == [0, 1, 3, 5]  # woken by their day, or by money
    assert tonight.rebuilt.tolist() == [2]  # money dated on or before the last run
    assert tonight.paid_worked.tolist() == [1, -1, -1, 2, 2, 3]  # each payment's worked loan
    never = int(np.iinfo(np.int32).max)  # no money for the loan tonight
    first = [never, *(day_number(d) for d in (today, last + timedelta(days=1), today))]
    assert tonight.first_paid.tolist() == first  # per worked loan, its earliest payment

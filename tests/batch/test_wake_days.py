"""When a resting loan must next be worked: the day a stage rule's view of it can change."""

from datetime import date, timedelta

import polars as pl
import pytest

from arrears.batch.ageing import summarise_loans
from arrears.batch.book import fresh_instalments

AS_OF = date(2026, 3, 1)


def _book(due_in: dict[str, int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Current loans, one line each, due the given number of days after AS_OF."""
    ids = sorted(due_in)
    loans = pl.DataFrame({
        "loan_id": ids, "borrower_id": [f"B{i}" for i in ids], "product": ["cn-cash"] * len(ids),
        "grace_days": [3] * len(ids), "credit": [0] * len(ids), "charged": [0] * len(ids),
    })  # fmt: skip
    schedule = pl.DataFrame({
        "loan_id": ids, "seq": [1] * len(ids),
        "due_date": [AS_OF + timedelta(days=due_in[i]) for i in ids],
        "principal_due": [100_000] * len(ids), "interest_due": [1_000] * len(ids),
        "fee_due": [0] * len(ids), "eff_due": [None] * len(ids),
    }, schema_overrides={"eff_due": pl.Date})  # fmt: skip
    return loans, fresh_instalments(schedule)


def _wake(due_in: dict[str, int], watch: tuple[int, ...]) -> dict[str, date]:
    loans, lines = _book(due_in)
    summary = summarise_loans(loans, lines, AS_OF, watch)
    return dict(summary.select("loan_id", "wake_on").iter_rows())


@pytest.mark.parametrize(
    ("due_in", "watch", "wakes_in"),
    [
        (10, (3,), 7),  # enters the 3-day window on its first day
        (3, (3,), 3),  # in the window today: next change is the line falling due
        (2, (3,), 2),  # inside the window: not every day, only on the due date
        (10, (3, 7), 3),  # the widest threshold is reached first
        (5, (3, 7), 2),  # past the 7-day threshold, the 3-day one is next
        (2, (1, 3), 1),  # a narrower rule (due within 1 day) is reached tomorrow
        (10, (), 10),  # no rule reads the days to the due date
    ],
)
def test_a_current_loan_wakes_when_a_due_within_threshold_is_reached(
    due_in: int, watch: tuple[int, ...], wakes_in: int
) -> None:
    assert _wake({"L1": due_in}, watch) == {"L1": AS_OF + timedelta(days=wakes_in)}


def test_a_line_owing_only_fees_wakes_the_day_after_its_effective_due_date() -> None:
    """A line fallen due whose effective due date a holiday moved later, with only a fee left
    to pay: nothing accrues, yet its fee turns overdue the day after that date."""
    loans, lines = _book({"L1": -1})
    lines = lines.with_columns(
        pl.lit(AS_OF + timedelta(days=2)).alias("eff_due"),
        pl.col("principal_due").alias("paid_principal"),
        pl.col("interest_due").alias("interest_charged"),
        pl.col("interest_due").alias("paid_interest"),
        pl.lit(500, pl.Int64).alias("fees_charged"),
    )
    summary = summarise_loans(loans, lines, AS_OF, (3,))
    assert summary.row(0, named=True)["overdue_fees"] == 0  # not past due yet
    assert summary.row(0, named=True)["wake_on"] == AS_OF + timedelta(days=3)
    later = summarise_loans(loans, lines, AS_OF + timedelta(days=3), (3,))
    assert later.row(0, named=True)["overdue_fees"] == 500

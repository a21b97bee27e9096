"""Which lines of a worked loan's tail a night leaves where they are (book_night._trim_tails):
those due after the night that the loan's money cannot reach, counted at the least the lines
before them can owe. The engine-against-whole-book tests show the night ends the same; these
show the lines are left out at all (else every paying loan rewrites its whole tail)."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from arrears.adapters.book_night import _trim_tails, _Trimmed
from arrears.batch.book import INSTALMENT_SCHEMA
from arrears.batch.ledger_arrays import day_number

AS_OF = date(2025, 11, 18)
# Line 1 fell due ten days ago: 100,000 principal and 2,000 interest charged, unpaid. Lines
# 2-4 fall due later, each owing 100,000 principal and 2,000 interest as scheduled.
DUE = [AS_OF - timedelta(days=10), *(AS_OF + timedelta(days=d) for d in (20, 50, 80))]
TAIL_ROW, TAIL_ROWS = 7, 3  # where lines 2-4 are stored (the head holds line 1)


def _lines() -> pl.DataFrame:
    """The loan's four lines."""
    return pl.DataFrame(
        {
            "loan_id": ["L1"] * 4, "seq": [1, 2, 3, 4], "due_date": DUE,
            "principal_due": [100_000] * 4, "interest_due": [2_000] * 4, "fee_due": [0] * 4,
            "interest_charged": [2_000, 0, 0, 0], "fees_charged": [0] * 4,
            "penalty_charged": [0] * 4, "paid_fees": [0] * 4, "paid_penalty": [0] * 4,
            "paid_interest": [0] * 4, "paid_principal": [0] * 4,
            "pending": [0] * 4, "pending_days": [0] * 4, "pending_base": [0] * 4,
            "pending_daily": [0] * 4, "beyond_grace": [True] * 4,
        },
        schema_overrides={"due_date": pl.Date},
    ).with_columns(
        pl.lit(None, INSTALMENT_SCHEMA[name]).alias(name)
        for name in INSTALMENT_SCHEMA
        if name in ("eff_due", "pending_first", "run_first", "run_last", "run_base", "run_daily")
    )  # fmt: skip


def _trimmed(money: int, head: int = 1, *, trimmable: bool = True) -> _Trimmed:
    """The trim of the loan stepped over tonight only, with `money` to apply and `head`
    lines stored with those fallen due (the others in its tail)."""
    rows = pl.DataFrame({
        "seg_rows": [head], "tail_row": [TAIL_ROW], "tail_rows": [4 - head], "late_fee": [None],
        "cap_num": [None], "cap_den": [None], "cap_total": [None], "day_count": [365],
        "charged": [2_000],
    }, schema_overrides=dict.fromkeys(("late_fee", "cap_num", "cap_den", "cap_total"),
                                      pl.Int64))  # fmt: skip
    return _trim_tails(
        rows, _lines(), np.zeros(4, dtype=np.int64), np.array([trimmable]),
        np.array([money]), np.array([0]), np.array([day_number(AS_OF) - 1]), AS_OF,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("money", "worked", "left"),
    [
        (0, [1], 3),  # nothing to pay: every line not yet due stays
        # Line 1 owes at least its principal (no cap cuts it): money up to that cannot get
        # past it, one yuan more may reach line 2.
        (100_000, [1], 3),
        (100_001, [1, 2], 2),
        (202_000, [1, 2], 2),  # line 2 owes 102,000: line 3 out of reach
        (202_001, [1, 2, 3], 1),
        (10_000_000, [1, 2, 3, 4], 0),  # money for every line: none stays
    ],
)
def test_the_lines_money_cannot_reach_stay_where_they_are(
    money: int, worked: list[int], left: int
) -> None:
    cut = _trimmed(money)
    assert cut.lines.get_column("seq").to_list() == worked
    assert cut.partial.tolist() == [left > 0]
    if left:  # the tail left in place: the stored tail's last `left` lines
        assert cut.tail_row.tolist() == [TAIL_ROW + TAIL_ROWS - left]
        assert cut.tail_rows.tolist() == [left]
        assert cut.rest["tail_principal"].to_list() == [100_000 * left]
        assert cut.rest["tail_next_due"].to_list() == [DUE[4 - left]]


def test_a_line_worked_ahead_of_its_tail_has_the_tail_read_again_when_it_falls_due() -> None:
    # Line 2 worked (money reached it), lines 3-4 left: were line 2 paid ahead, the cap may
    # hand part of that back when it falls due, and the credit pays down into lines 3-4.
    cut = _trimmed(100_001)
    assert cut.rest["tail_first_due"].to_list() == [DUE[1]]
    # With nothing worked ahead of them, the tail is read on its own first due date.
    assert _trimmed(0).rest["tail_first_due"].to_list() == [DUE[1]]
    assert _trimmed(202_001).rest["tail_first_due"].to_list() == [DUE[1]]


def test_lines_stored_with_those_fallen_due_are_always_worked() -> None:
    # Line 2 was stored with line 1 (money reached it on an earlier night): only lines 3-4
    # are the tail, and only they can stay.
    cut = _trimmed(0, head=2)
    assert cut.lines.get_column("seq").to_list() == [1, 2]
    assert (cut.tail_row.tolist(), cut.tail_rows.tolist()) == ([TAIL_ROW], [2])


def test_a_loan_not_trimmable_keeps_every_line() -> None:
    assert _trimmed(0, trimmable=False).lines.height == 4
    assert _trimmed(0, trimmable=False).partial.tolist() == [False]


@pytest.mark.parametrize(("total", "lines"), [(None, 2), (3_000, 4), (4_000, 2)])
def test_a_cap_on_total_charges_that_may_hand_back_interest_paid_ahead_keeps_the_tail(
    total: int | None, lines: int
) -> None:
    # Line 2 falls due today with its 2,000 of interest paid ahead. Under 292 %/yr alone the
    # loan has 94,000 of room (96,000 allowed on 12,000,000 principal-days, 2,000 charged),
    # so nothing comes back and lines 3-4 stay in place. A total of 3,000 leaves 1,000 of room:
    # the cap may cut line 2's interest and hand it back as credit that pays into lines 3-4,
    # so they are worked. At 4,000 the interest fits again.
    ahead = _lines().with_columns(
        pl.Series("due_date", [DUE[0], AS_OF, *DUE[2:]]),
        pl.Series("paid_interest", [0, 2_000, 0, 0]),
    )
    rows = pl.DataFrame({
        "seg_rows": [1], "tail_row": [TAIL_ROW], "tail_rows": [3], "late_fee": [None],
        "cap_num": [73], "cap_den": [25], "cap_total": [total], "day_count": [365],
        "charged": [2_000],
    }, schema_overrides=dict.fromkeys(("late_fee", "cap_num", "cap_den", "cap_total"),
                                      pl.Int64))  # fmt: skip
    cut = _trim_tails(
        rows, ahead, np.zeros(4, dtype=np.int64), np.array([True]), np.array([0]),
        np.array([12_000_000]), np.array([day_number(AS_OF) - 1]), AS_OF,
    )  # fmt: skip
    assert cut.lines.height == lines

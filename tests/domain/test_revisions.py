"""Extensions: an approved extension moves the due dates of the instalments still owing from
its day on (docs/MONEY_RULES.md, "Revisions"); nothing before its day changes.

The bullet loan owes 10,000.00 on 2026-01-31 at 36 %/yr over 360 days: a day of penalty on
the whole principal is exactly 10.00 (1,000 fen); grace 3 days, late fee 10.00.
"""

from datetime import date, timedelta
from fractions import Fraction

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.evaluation import evaluate_loan
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.product import Product
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState
from tests.factories import CONTRACT, UNCAPPED, WEEKDAYS, one_instalment_loan

FULL_DAY = 1_000
GRACE3 = Product("cn-cash", grace_days=3, late_fee=1_000)


def evaluate(
    as_of: date, revisions: list[Revision], loan: Loan | None = None,
    payments: list[Payment] | None = None, product: Product = GRACE3,
) -> LoanState:  # fmt: skip
    return evaluate_loan(loan or one_instalment_loan(), payments or [], as_of, product=product,
                         cap_rule=UNCAPPED, calendar=WEEKDAYS, revisions=revisions)  # fmt: skip


def extension(day: date, days: int) -> Revision:
    return Revision("extension", day, days)


def test_the_reviewers_case_an_extension_at_13_days_past_due_stops_the_ageing() -> None:
    # Approved on 13 February (13 days past due) for 30 days: due 2 March from then on. The
    # penalty of 1..12 February and the late fee (posted 4 February) stay; nothing accrues
    # from the 13th until the new due date has passed.
    approved = date(2026, 2, 13)
    plain = evaluate(date(2026, 2, 14), [])
    state = evaluate(date(2026, 2, 14), [extension(approved, 30)])
    assert (plain.dpd, plain.bucket) == (14, "M1")
    assert (state.dpd, state.bucket, state.stage) == (0, "M0", "current")
    assert state.total_charged("penalty") == 12 * FULL_DAY
    assert state.total_charged("late_fee") == 1_000
    assert state.installments[0].effective_due_date == date(2026, 3, 2)
    assert state.installments[0].due_date == date(2026, 1, 31)  # its interest's day stays
    # Beyond grace already: its penalty runs again the day after the new date, no new fee.
    later = evaluate(date(2026, 3, 5), [extension(approved, 30)])
    assert later.dpd == 3
    assert later.total_charged("penalty") == 15 * FULL_DAY
    assert later.total_charged("late_fee") == 1_000


def test_inside_grace_an_extension_forgives_the_pending_penalty_and_grace_begins_again() -> None:
    # 2 days past due (2 days pending) when 10 days are granted: due 10 February, grace to
    # the 13th; unpaid on the 14th, four days of penalty (11..14) and the late fee.
    revisions = [extension(date(2026, 2, 2), 10)]
    inside = evaluate(date(2026, 2, 13), revisions)
    pending = inside.installments[0].pending_penalty
    assert (inside.dpd, inside.bucket, pending) == (3, "M0", 3 * FULL_DAY)
    beyond = evaluate(date(2026, 2, 14), revisions)
    assert beyond.total_charged("penalty") == 4 * FULL_DAY
    assert beyond.total_charged("late_fee") == 1_000
    # Paid on the last day of the new grace: nothing is owed.
    on_time = [Payment("P", 1_000_000, date(2026, 2, 13))]
    paid = evaluate(date(2026, 3, 1), revisions, payments=on_time)
    assert paid.charged == 0
    assert paid.stage == "settled"


def test_instalments_not_yet_due_fall_due_on_their_new_date() -> None:
    # Three monthly instalments; 20 days granted on 15 January, the third prepaid in full:
    # the first two fall due (and post their interest) 20 days later, the third keeps its day.
    items = tuple(Installment(n, date(2026, 1 + n, 1), 100_000, 5_000) for n in (1, 2, 3))
    loan = Loan("L", "B", "cn-cash", "CNY", 300_000, Fraction("0.18"), CONTRACT, items,
                Fraction("0.36"))  # fmt: skip
    prepaid = [Payment("P", 105_000, date(2026, 1, 10))]  # the first line's, oldest due first
    revisions = [extension(date(2026, 1, 15), 20)]
    state = evaluate(date(2026, 5, 1), revisions, loan, prepaid)
    dues = [(i.seq, i.due_date) for i in state.installments]
    assert dues == [(1, date(2026, 2, 1)), (2, date(2026, 3, 21)), (3, date(2026, 4, 21))]
    interest = {c.seq: c.posted_on for c in state.charges if c.kind == "interest"}
    assert interest == {1: date(2026, 2, 1), 2: date(2026, 3, 21), 3: date(2026, 4, 21)}


def test_extensions_add_up_and_the_new_date_follows_the_holiday_rule() -> None:
    # 10 then 20 days: due 2 March 2026 (a Monday); with next_business_day a new date on a
    # Saturday (7 March: 35 days) is effective on Monday the 9th.
    two = [extension(date(2026, 2, 5), 10), extension(date(2026, 2, 12), 20)]
    assert evaluate(date(2026, 2, 20), two).installments[0].effective_due_date == date(2026, 3, 2)
    business = Product("cn-cash", grace_days=3, late_fee=1_000, holiday_rule="next_business_day")
    moved = evaluate(date(2026, 3, 10), [extension(date(2026, 2, 12), 35)], product=business)
    assert moved.installments[0].effective_due_date == date(2026, 3, 9)
    assert moved.dpd == 1


def test_nothing_before_the_extensions_day_changes() -> None:
    revisions = [extension(date(2026, 2, 20), 15)]
    day = date(2026, 2, 1)
    while day < date(2026, 2, 20):
        assert evaluate(day, revisions) == evaluate(day, [])
        day += timedelta(days=1)
    assert evaluate(date(2026, 2, 20), revisions).revisions == tuple(revisions)


def test_only_extensions_of_1_to_180_days_settlements_and_plans_are_applied() -> None:
    with pytest.raises(DomainError, match="only extension, settlement, plan revisions are"):
        Revision("waiver", date(2026, 2, 1), 6)
    with pytest.raises(DomainError, match="a plan has months only"):
        Revision("plan", date(2026, 2, 1), 6, months=6)
    with pytest.raises(DomainError, match="1 to 180 days"):
        Revision("extension", date(2026, 2, 1), 0)

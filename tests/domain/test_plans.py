"""Plans: the past-due principal and interest re-split into N monthly parts from the plan's day
(docs/MONEY_RULES.md, "Plans"); charges posted stay; nothing before its day changes.

The bullet loan owes 10,000.00 and 300.01 of interest on 2026-01-31, its penalty 36 %/yr over
360 days: a day of penalty on the whole principal is exactly 10.00 (1,000 fen); grace 3 days,
late fee 10.00.
"""

from datetime import date, timedelta

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.evaluation import evaluate_loan
from arrears.domain.loan import Loan, Payment
from arrears.domain.product import Product
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState
from tests.factories import LICENSED, UNCAPPED, WEEKDAYS, monthly_loan, one_instalment_loan

FULL_DAY = 1_000
GRACE3 = Product("cn-cash", grace_days=3, late_fee=1_000)
APPROVED = date(2026, 2, 10)  # 10 days past due: penalty of 1..9 February and the late fee
LOAN = one_instalment_loan(interest=30_001)
PARTS = [date(2026, 3, 10), date(2026, 4, 10), date(2026, 5, 10)]
OWED_BEFORE = 9 * FULL_DAY + 1_000  # the penalty and the late fee, which stay on the line


def evaluate(
    as_of: date, revisions: list[Revision], payments: list[Payment] | None = None,
    loan: Loan = LOAN,
) -> LoanState:  # fmt: skip
    return evaluate_loan(loan, payments or [], as_of, product=GRACE3, cap_rule=UNCAPPED,
                         calendar=WEEKDAYS, revisions=revisions)  # fmt: skip


def plan(months: int = 3, on: date = APPROVED) -> Revision:
    return Revision("plan", on, months=months)


def pay(payment_id: str, on: date, amount: int) -> Payment:
    return Payment(payment_id, amount, on)


def test_a_plan_re_splits_the_past_due_amount_into_monthly_parts_from_its_day() -> None:
    state = evaluate(date(2026, 2, 20), [plan()])
    assert (state.dpd, state.bucket) == (0, "M0")
    # The penalty of 1..9 February and the late fee stay owed; none accrues from the 10th.
    assert state.total_charged("penalty") == 9 * FULL_DAY
    assert state.total_charged("late_fee") == 1_000
    assert (state.overdue.principal, state.overdue.interest) == (0, 0)
    assert (state.overdue.penalty, state.overdue.fees) == (9 * FULL_DAY, 1_000)
    assert state.outstanding_principal == 1_000_000
    (planned,) = state.plans
    assert (planned.principal, planned.interest) == (1_000_000, 30_001)
    assert [p.due_date for p in planned.parts] == PARTS
    assert [(p.principal, p.interest) for p in planned.parts] == [
        (333_333, 10_000), (333_333, 10_000), (333_334, 10_001),
    ]  # fmt: skip
    assert {p.status for p in planned.parts} == {"pending"}
    moved = [(a.seq, a.component, a.amount, a.paid_on) for a in state.allocations
             if a.payment_id == "plan"]  # fmt: skip
    assert sorted(moved) == [(1, "interest", 30_001, APPROVED), (1, "principal", 1_000_000,
                                                                 APPROVED)]  # fmt: skip
    # Its parts' interest is not charged again: it was on 31 January.
    assert state.total_charged("interest") == 30_001
    assert state.charged == 30_001 + OWED_BEFORE


def test_nothing_before_the_plans_day_changes() -> None:
    day = date(2026, 1, 1)
    while day < APPROVED:
        assert evaluate(day, [plan()]) == evaluate(day, [])
        day += timedelta(days=1)
    assert evaluate(APPROVED, [plan()]).revisions == (plan(),)


def test_a_part_paid_on_its_day_is_paid_and_nothing_more_accrues() -> None:
    # The charges first (fees → penalty → interest → principal, oldest due first), then the
    # first part.
    paid = [pay("P1", PARTS[0], OWED_BEFORE + 343_333)]
    state = evaluate(date(2026, 3, 20), [plan()], paid)
    assert (state.dpd, state.overdue.total) == (0, 0)
    assert [p.status for p in state.plans[0].parts] == ["paid", "pending", "pending"]
    assert state.plans[0].parts[0].paid == 343_333
    assert state.total_charged("penalty") == 9 * FULL_DAY


def test_a_part_unpaid_is_past_due_from_its_day_with_grace_penalty_and_a_late_fee() -> None:
    paid = [pay("P1", APPROVED, OWED_BEFORE)]  # the charges paid, the part not
    inside = evaluate(date(2026, 3, 13), [plan()], paid)
    assert (inside.dpd, inside.total_charged("late_fee")) == (3, 1_000)
    assert inside.installments[0].pending_penalty == 0  # the re-split line's: not owed
    state = evaluate(date(2026, 3, 15), [plan()], paid)
    # Past due from 10 March: 11..15 March at 333.333 a day on 3,333.33, half up: 3.33.
    assert state.dpd == 5
    assert state.total_charged("penalty") == 9 * FULL_DAY + 5 * 333
    assert state.total_charged("late_fee") == 2 * 1_000  # the part's own (lender policy)
    assert (state.overdue.principal, state.overdue.interest) == (333_333, 10_000)
    assert [p.status for p in state.plans[0].parts] == ["past_due", "pending", "pending"]


def test_a_part_paid_late_or_in_part_stays_past_due_until_paid() -> None:
    partly = [pay("P1", PARTS[0], OWED_BEFORE + 100_000)]
    state = evaluate(date(2026, 3, 12), [plan()], partly)
    first = state.plans[0].parts[0]
    assert (first.status, first.paid) == ("past_due", 100_000)
    assert (state.dpd, state.overdue.principal) == (2, 243_333)
    late = [*partly, pay("P2", date(2026, 3, 12), 243_333 + 2 * 243)]
    paid_up = evaluate(date(2026, 3, 20), [plan()], late)
    # 11 and 12 March pending inside grace, never posted: paid inside grace.
    assert paid_up.plans[0].parts[0].status == "paid"
    assert (paid_up.dpd, paid_up.total_charged("penalty")) == (0, 9 * FULL_DAY)


def test_every_part_paid_the_loan_is_settled() -> None:
    amounts = (343_333, 343_333, 343_335)
    paid = [pay("P0", APPROVED, OWED_BEFORE)] + [
        pay(f"P{n}", day, amount)
        for n, (day, amount) in enumerate(zip(PARTS, amounts, strict=True), start=1)
    ]
    state = evaluate(date(2026, 5, 31), [plan()], paid)
    assert (state.stage, state.dpd, state.outstanding_principal) == ("settled", 0, 0)
    assert {p.status for p in state.plans[0].parts} == {"paid"}


def test_an_instalment_falling_due_on_the_plans_day_keeps_its_date() -> None:
    loan = monthly_loan([(100_000, 1_500), (100_000, 1_500)])  # due 1 February, 1 March
    state = evaluate(date(2026, 3, 2), [plan(2, date(2026, 3, 1))], loan=loan)
    (planned,) = state.plans
    assert (planned.principal, planned.interest) == (100_000, 1_500)  # the first only
    assert [p.due_date for p in planned.parts] == [date(2026, 4, 1), date(2026, 5, 1)]
    second = next(s for s in state.installments if s.seq == 2)
    assert (second.past_due, second.dpd, state.dpd) == (True, 1, 1)


def test_a_plan_inside_grace_forgives_the_pending_penalty() -> None:
    # 2 days past due (1 and 2 February pending): never posted, not owed; no late fee.
    state = evaluate(date(2026, 2, 20), [plan(on=date(2026, 2, 3))])
    assert state.total_charged("penalty") == 0
    assert state.total_charged("late_fee") == 0
    assert state.overdue.total == 0
    assert state.plans[0].parts[0].due_date == date(2026, 3, 3)


def test_a_plan_with_nothing_past_due_re_splits_nothing() -> None:
    early = [plan(on=date(2026, 1, 20))]
    state, plain = evaluate(date(2026, 2, 20), early), evaluate(date(2026, 2, 20), [])
    assert [(p.principal, p.interest, p.status) for p in state.plans[0].parts] == [
        (0, 0, "paid")] * 3  # fmt: skip
    assert (state.dpd, state.overdue, state.charged) == (plain.dpd, plain.overdue, plain.charged)
    assert state.charges == plain.charges


def test_fen_remainders_go_to_the_last_part_and_month_ends_clamp() -> None:
    loan = one_instalment_loan(principal=100, interest=2)
    state = evaluate(date(2026, 2, 10), [plan(3)], loan=loan)
    assert [(p.principal, p.interest) for p in state.plans[0].parts] == [(33, 0), (33, 0), (34, 2)]
    at_month_end = evaluate(date(2026, 3, 31), [plan(3, date(2026, 3, 31))])
    assert [p.due_date for p in at_month_end.plans[0].parts] == [
        date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]  # fmt: skip


def test_an_extension_after_a_plan_moves_its_parts() -> None:
    revisions = [plan(), Revision("extension", date(2026, 2, 20), 10)]
    state = evaluate(date(2026, 3, 25), revisions)
    assert [p.due_date for p in state.plans[0].parts] == [
        date(2026, 3, 20), date(2026, 4, 20), date(2026, 5, 20)]  # fmt: skip
    assert state.dpd == 5
    # The re-split line owes its charges only: the extension leaves it where it is.
    assert state.installments[0].due_date == date(2026, 1, 31)


def test_on_one_day_the_plan_comes_first_and_an_extension_moves_its_parts() -> None:
    same_day = [Revision("extension", APPROVED, 10), plan()]
    state = evaluate(date(2026, 3, 1), same_day)
    assert state.plans[0].principal == 1_000_000
    assert state.plans[0].parts[0].due_date == date(2026, 3, 20)


def test_a_later_plan_re_splits_the_earlier_ones_parts_past_due() -> None:
    revisions = [plan(2), plan(2, date(2026, 4, 1))]  # the first part past due on 1 April
    state = evaluate(date(2026, 4, 2), revisions)
    first, second = state.plans
    assert [p.status for p in first.parts] == ["paid", "pending"]  # re-split away
    assert (second.principal, second.interest) == (500_000, 15_000)
    assert [p.due_date for p in second.parts] == [date(2026, 5, 1), date(2026, 6, 1)]
    assert state.dpd == 0
    assert state.outstanding_principal == 1_000_000


def test_the_parts_interest_is_not_charged_again_under_the_cap() -> None:
    capped = evaluate_loan(LOAN, [], date(2026, 5, 31), product=GRACE3, cap_rule=LICENSED,
                           calendar=WEEKDAYS, revisions=[plan()])  # fmt: skip
    plain = evaluate_loan(LOAN, [], APPROVED - timedelta(days=1), product=GRACE3,
                          cap_rule=LICENSED, calendar=WEEKDAYS)  # fmt: skip
    assert capped.total_charged("interest") == plain.total_charged("interest")
    assert capped.charged <= (capped.allowance or 0)


def test_a_plan_has_2_to_36_months_and_no_other_terms() -> None:
    for months in (0, 1, 37):
        with pytest.raises(DomainError, match="2 to 36 monthly parts"):
            plan(months)
    with pytest.raises(DomainError, match="months only"):
        Revision("plan", APPROVED, 5, months=3)
    with pytest.raises(DomainError, match="only a plan has months"):
        Revision("extension", APPROVED, 5, months=3)

"""Settlements: pay X by a day, the rest waived once paid; not paid by then, it lapses and the
loan is owed as before (docs/MONEY_RULES.md, "Settlements").

The bullet loan owes 10,000.00 on 2026-01-31 at 36 %/yr over 360 days: a day of penalty on
the whole principal is exactly 10.00 (1,000 fen); grace 3 days, late fee 10.00.
"""

from datetime import date

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.evaluation import evaluate_loan
from arrears.domain.loan import Loan, Payment
from arrears.domain.product import Product
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState
from tests.factories import UNCAPPED, WEEKDAYS, monthly_loan, one_instalment_loan

FULL_DAY = 1_000
GRACE3 = Product("cn-cash", grace_days=3, late_fee=1_000)
APPROVED = date(2026, 2, 10)  # 10 days past due: 9 days of penalty and the late fee posted
DEADLINE = date(2026, 2, 20)


def evaluate(
    as_of: date, revisions: list[Revision], payments: list[Payment] | None = None,
    loan: Loan | None = None,
) -> LoanState:  # fmt: skip
    return evaluate_loan(loan or one_instalment_loan(), payments or [], as_of, product=GRACE3,
                         cap_rule=UNCAPPED, calendar=WEEKDAYS, revisions=revisions)  # fmt: skip


def settlement(amount: int, deadline: date = DEADLINE, on: date = APPROVED) -> Revision:
    return Revision("settlement", on, amount=amount, deadline=deadline)


def pay(payment_id: str, on: date, amount: int) -> Payment:
    return Payment(payment_id, amount, on)


def test_paid_by_the_deadline_the_rest_is_waived_and_the_loan_is_settled() -> None:
    # 6,000.00 paid on the 15th: the waterfall takes the fee and penalty first (fees →
    # penalty → interest → principal), the rest of the principal is waived.
    deal = [settlement(600_000)]
    paid = [pay("P1", date(2026, 2, 15), 600_000)]
    state = evaluate(date(2026, 3, 31), deal, paid)
    # Penalty of 1..14 February (the 15th's accrues after the waterfall: none, settled).
    penalty = 14 * FULL_DAY
    assert (state.dpd, state.bucket, state.stage) == (0, "M0", "settled")
    assert state.overdue.total == 0
    assert state.outstanding_principal == 0
    assert state.total_charged("penalty") == penalty  # nothing accrues after the 15th
    (settled,) = state.settlements
    assert (settled.status, settled.settled_on, settled.paid) == ("settled", date(2026, 2, 15),
                                                                 600_000)  # fmt: skip
    assert settled.waived == {"fees": 0, "penalty": 0, "interest": 0,
                              "principal": 1_000_000 - (600_000 - penalty - 1_000)}  # fmt: skip
    waivers = [a for a in state.allocations if a.payment_id == "waiver"]
    assert sum(a.amount for a in waivers) == settled.waived_total
    assert all(a.paid_on == date(2026, 2, 15) for a in waivers)


def test_a_payment_on_the_deadline_counts_and_parts_add_up() -> None:
    deal = [settlement(600_000)]
    paid = [pay("P1", date(2026, 2, 12), 200_000), pay("P2", DEADLINE, 400_000)]
    state = evaluate(DEADLINE, deal, paid)
    assert state.settlements[0].status == "settled"
    assert state.settlements[0].settled_on == DEADLINE
    assert state.stage == "settled"


def test_not_reached_by_the_deadline_it_lapses_and_the_loan_is_owed_as_without_it() -> None:
    # Paid in part (5,000.00 of 6,000.00), then the rest a day late: nothing is waived.
    paid = [pay("P1", date(2026, 2, 12), 500_000), pay("P2", DEADLINE.replace(day=21), 100_000)]
    for as_of in (date(2026, 2, 15), DEADLINE, date(2026, 2, 21), date(2026, 3, 31)):
        plain = evaluate(as_of, [], paid)
        state = evaluate(as_of, [settlement(600_000)], paid)
        assert (state.dpd, state.overdue, state.charges, state.allocations, state.credit) == (
            plain.dpd, plain.overdue, plain.charges, plain.allocations, plain.credit
        )  # fmt: skip
        status = state.settlements[0].status
        assert status == ("pending" if as_of <= DEADLINE else "lapsed")
        assert state.settlements[0].waived_total == 0


def test_payments_before_the_effective_day_do_not_count() -> None:
    paid = [pay("P1", date(2026, 2, 9), 500_000), pay("P2", date(2026, 2, 11), 100_000)]
    state = evaluate(date(2026, 3, 1), [settlement(600_000)], paid)
    assert state.settlements[0].status == "lapsed"
    assert state.settlements[0].paid == 100_000
    assert state.stage != "settled"


def test_not_yet_effective_it_changes_nothing_and_is_not_shown() -> None:
    paid = [pay("P1", date(2026, 2, 5), 600_000)]
    state = evaluate(date(2026, 2, 8), [settlement(600_000)], paid)
    assert state.settlements == ()
    assert state.overdue == evaluate(date(2026, 2, 8), [], paid).overdue


def test_overpaid_the_excess_and_later_payments_are_credit() -> None:
    paid = [pay("P1", date(2026, 2, 15), 700_000), pay("P2", date(2026, 3, 1), 5_000)]
    state = evaluate(date(2026, 3, 31), [settlement(600_000)], paid)
    assert state.stage == "settled"
    assert state.credit == 5_000  # 7,000.00 all went down the waterfall; the later is credit
    assert state.settlements[0].paid == 700_000


def test_instalments_not_yet_due_are_waived_with_their_scheduled_interest() -> None:
    # Three monthly instalments; the first past due: settled on 10 February for 500.00.
    loan = monthly_loan([(100_000, 5_000), (100_000, 5_000), (100_000, 5_000)])
    deal = [Revision("settlement", APPROVED, amount=50_000, deadline=DEADLINE)]
    paid = [Payment("P1", 50_000, APPROVED)]
    state = evaluate(date(2026, 6, 1), deal, paid, loan)
    assert state.stage == "settled"
    assert state.outstanding_principal == 0
    # No interest posted after the settlement: only the first instalment's (due 1 February).
    assert state.total_charged("interest") == 5_000
    waived = state.settlements[0].waived
    assert waived["interest"] == 5_000 * 2  # the two not yet due; the first's was paid
    assert sum(waived.values()) + 50_000 == 315_000 + state.total_charged("penalty") + (
        state.total_charged("late_fee")
    )


def test_a_settlement_needs_a_positive_amount_and_a_deadline_not_before_its_day() -> None:
    with pytest.raises(DomainError, match=r"amount must be more than 0\.00"):
        Revision("settlement", APPROVED, amount=0, deadline=DEADLINE)
    with pytest.raises(DomainError, match="deadline 2026-02-09 is before its effective day"):
        Revision("settlement", APPROVED, amount=1, deadline=date(2026, 2, 9))
    with pytest.raises(DomainError, match="needs a deadline"):
        Revision("settlement", APPROVED, amount=1)
    with pytest.raises(DomainError, match="no amount or deadline"):
        Revision("extension", APPROVED, days=3, amount=1)
    with pytest.raises(DomainError, match="a plan has months only"):
        Revision("plan", APPROVED, amount=1, deadline=DEADLINE, months=3)


def test_settled_inside_grace_the_pending_penalty_is_not_owed() -> None:
    # Due 31 January, paid on 2 February (inside grace) as settled the day before.
    deal = [settlement(10_000, deadline=date(2026, 2, 2), on=date(2026, 2, 1))]
    state = evaluate(date(2026, 2, 28), deal, [pay("P1", date(2026, 2, 2), 10_000)])
    assert state.total_charged("penalty") == 0
    assert state.total_charged("late_fee") == 0
    assert state.settlements[0].waived["principal"] == 1_000_000 - 10_000


def test_history_before_the_settlement_day_is_unchanged() -> None:
    paid = [pay("P1", date(2026, 2, 15), 600_000)]
    late = evaluate(date(2026, 3, 31), [settlement(600_000)], paid)
    early = evaluate(date(2026, 2, 14), [], paid)
    assert [c for c in late.charges if c.posted_on <= date(2026, 2, 14)] == list(early.charges)

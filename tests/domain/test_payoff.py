"""All a loan owes on a day, nothing more paid: what clears it paid that day, with no more
over than that day's own charges."""

from dataclasses import replace
from datetime import date
from fractions import Fraction

from hypothesis import given, settings

from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.pauses import NO_PAUSES
from arrears.domain.product import Product
from arrears.domain.statement import LoanState, posted_within
from tests.domain.test_evaluation_properties import Case, cases, run
from tests.factories import UNCAPPED


def paying(case: Case, amount: int, on: date) -> Case:
    """The case with one more payment of `amount` on `on`."""
    loan, payments, product, rule, as_of, pauses, revisions = case
    return loan, [*payments, Payment("ALL", amount, on)], product, rule, as_of, pauses, revisions


def owes_nothing(state: LoanState) -> bool:
    """No line owes a fen of any part on the state's day."""
    return all(s.principal + s.interest + s.fees + s.penalty == 0 for s in state.installments)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_all_owed_paid_that_day_clears_the_loan_with_at_most_the_days_charges_over(
    case: Case,
) -> None:
    as_of = case[4]
    unpaid = run(case, as_of)
    owed = unpaid.owed_in_all
    if owed == 0:
        assert owes_nothing(unpaid)
        return
    paid = run(paying(case, owed, as_of), as_of)
    assert owes_nothing(paid)
    # What was paid over is what the day would have charged on the balance paid off.
    todays = sum(posted_within(c, as_of, as_of) for c in unpaid.charges)
    assert 0 <= paid.credit - unpaid.credit <= todays


def test_all_owed_counts_lines_not_yet_due_and_takes_off_the_credit() -> None:
    start = date(2026, 1, 1)
    items = (
        Installment(1, date(2026, 2, 1), 100_000, 2_000, 0),
        Installment(2, date(2026, 3, 1), 100_000, 1_000, 0),
    )
    loan = Loan("L", "B", "p", "CNY", 200_000, Fraction("0.24"), start, items, Fraction("0.365"))
    case: Case = (loan, [], Product("p"), UNCAPPED, date(2026, 2, 8), NO_PAUSES, [])
    state = run(case, date(2026, 2, 8))
    first, second = state.installments
    assert first.dpd == 7
    assert first.penalty > 0
    assert second.effective_due_date is None
    # The first line's principal, interest and week of penalty; the second's principal and
    # the interest its schedule asks (the ledger lends at the schedule's price, paid early
    # or not).
    assert state.owed_in_all == 100_000 + 2_000 + first.penalty + 100_000 + 1_000
    assert replace(state, credit=100).owed_in_all == state.owed_in_all - 100
    assert replace(state, credit=state.owed_in_all + 5).owed_in_all == 0


def test_all_owed_counts_principal_no_instalment_schedules() -> None:
    # helper-94: lent 3,000.00 with a schedule of 2,000.00; the rest stays outstanding
    # (docs/MONEY_RULES.md, "Outstanding principal") and is owed in all.
    items = (Installment(1, date(2026, 2, 1), 100_000, 2_000, 0),
             Installment(2, date(2026, 3, 1), 100_000, 1_000, 0))  # fmt: skip
    loan = Loan("L", "B", "p", "CNY", 300_000, Fraction("0.24"), date(2026, 1, 1), items,
                Fraction("0.365"))  # fmt: skip
    case: Case = (loan, [], Product("p"), UNCAPPED, date(2026, 2, 8), NO_PAUSES, [])
    state = run(case, date(2026, 2, 8))
    assert state.outstanding_principal == 300_000
    first, _ = state.installments
    assert state.owed_in_all == 300_000 + 2_000 + first.penalty + 1_000

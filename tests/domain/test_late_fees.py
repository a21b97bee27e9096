"""A product's limit on late fees in all: each late fee asked is at most what it leaves."""

from datetime import date, timedelta
from fractions import Fraction

import pytest

from arrears.domain.caps import OWN_CAP_RULE, CapRule
from arrears.domain.errors import DomainError, Words
from arrears.domain.late_fees import LateFeeLimit
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.product import Product
from arrears.domain.statement import LoanState
from tests.factories import evaluate

SIGNED = date(2026, 1, 1)
# The UK's HCSTC default cap: default fees £15 in all (FCA CONC 5A.3.18R), over a late fee
# of £12 an instalment.
HCSTC = LateFeeLimit(1_500, "FCA CONC 5A.3.18R")
UK = Product("uk-hcstc", "uk", cap="none", grace_days=0, late_fee=1_200, day_count=365,
             late_fee_limit=HCSTC)  # fmt: skip
# Three monthly instalments of 100.00, none paid.
LOAN = Loan("L1", "B1", "uk-hcstc", "GBP", 30_000, Fraction("0.12"), SIGNED,
            tuple(Installment(n, SIGNED + timedelta(days=30 * n), 10_000, 0)
                  for n in (1, 2, 3)))  # fmt: skip


def late_fees(state: LoanState) -> list[tuple[int, int]]:
    """(seq, amount) of each late fee posted."""
    return [(c.seq, c.amount) for c in state.charges if c.kind == "late_fee"]


def test_the_late_fees_stop_at_the_limit_whatever_the_instalments_missed() -> None:
    state = evaluate(LOAN, [], date(2026, 5, 1), UK)
    # 12.00 on the first instalment missed, 3.00 on the second (15.00 in all), none on the
    # third: no cut is recorded, none being asked beyond the limit.
    assert late_fees(state) == [(1, 1_200), (2, 300)]
    assert state.total_charged("late_fee") == HCSTC.total
    assert state.overdue.fees == 1_500
    assert state.cap_cuts == ()
    assert state.late_fee_limit == HCSTC


def test_without_the_limit_each_instalment_missed_is_charged_its_late_fee() -> None:
    plain = Product("uk", "uk", cap="none", grace_days=0, late_fee=1_200, day_count=365)
    state = evaluate(LOAN, [], date(2026, 5, 1), plain)
    assert late_fees(state) == [(1, 1_200), (2, 1_200), (3, 1_200)]


def test_the_limit_counts_the_late_fees_charged_not_those_asked() -> None:
    # An own cost cap that leaves 5.00 of the first late fee of 12.00: 5.00 is charged (7.00
    # cut under the cap), so the limit leaves the next one 10.00 of room, asked 10.00 and cut
    # as the cap's room allows; no late fee ever adds up past 15.00.
    cap = CapRule(OWN_CAP_RULE, Fraction("0.02"), "lender policy", Words("2%/yr"))
    state = evaluate(LOAN, [], date(2026, 5, 1), UK, cap)
    fees = late_fees(state)
    cut = [(c.seq, c.amount) for c in state.cap_cuts if c.kind == "late_fee"]
    assert fees[0][0] == 1
    assert fees[0][1] < 1_200
    assert cut[0] == (1, 1_200 - fees[0][1])
    asked_second = min(1_200, 1_500 - fees[0][1])
    second = [amount for seq, amount in fees if seq == 2]
    second_cut = [amount for seq, amount in cut if seq == 2]
    assert sum(second) + sum(second_cut) == asked_second
    assert state.total_charged("late_fee") <= HCSTC.total


def test_a_payment_does_not_give_back_room_under_the_limit() -> None:
    # The first instalment paid late with its fee: the fee stays charged and counted, so the
    # second one missed is asked the 3.00 left.
    paid = Payment("P1", 11_200, SIGNED + timedelta(days=40))
    state = evaluate(LOAN, [paid], date(2026, 5, 1), UK)
    assert late_fees(state) == [(1, 1_200), (2, 300)]


@pytest.mark.parametrize(
    ("total", "source", "message"),
    [(0, "CONC", "above 0.00"), (-100, "CONC", "above 0.00"), (1_500, " ", "needs its source")],
)
def test_a_limit_of_nothing_or_without_its_source_is_refused(
    total: int, source: str, message: str
) -> None:
    with pytest.raises(DomainError, match=message):
        LateFeeLimit(total, source)


def test_a_limit_on_the_late_fees_of_a_product_charging_none_is_refused() -> None:
    with pytest.raises(DomainError, match="late_fee_total limits late fees, but the product"):
        Product("p", "uk", cap="none", late_fee=0, late_fee_limit=HCSTC)

"""Pauses: a hold of a kind its product names stops a loan's clocks (docs/MONEY_RULES.md).

The bullet loan owes 10,000.00 on 2026-01-31 at 36 %/yr over 360 days: a day of penalty on
the whole principal is exactly 10.00 (1,000 fen).
"""

from datetime import date, timedelta

import pytest

from arrears.domain.contact import Hold
from arrears.domain.errors import DomainError
from arrears.domain.evaluation import evaluate_loan
from arrears.domain.loan import Payment
from arrears.domain.pauses import AGEING, CHARGES, Pauses, merged
from arrears.domain.product import Product
from arrears.domain.statement import LoanState
from tests.factories import LICENSED, UNCAPPED, WEEKDAYS, day, one_instalment_loan

FULL_DAY = 1_000
BOTH = Product("cn-cash", grace_days=3, late_fee=1_000, pause_ageing=("dispute",),
               pause_charges=("dispute", "hardship"))  # fmt: skip


def evaluate(
    holds: list[Hold], as_of: date, product: Product = BOTH, payments: list[Payment] | None = None
) -> LoanState:
    pauses = Pauses.of(holds, product.pause_ageing, product.pause_charges)
    return evaluate_loan(one_instalment_loan(), payments or [], as_of, product=product,
                         cap_rule=UNCAPPED, calendar=WEEKDAYS, pauses=pauses)  # fmt: skip


def penalty(state: LoanState) -> int:
    return state.total_charged("penalty")


def test_a_dispute_subtracts_its_days_from_days_past_due_and_accrues_no_penalty() -> None:
    # 29 days past due on 1 March; a dispute over ten of them (10..19 February).
    dispute = Hold("dispute", date(2026, 2, 10), date(2026, 2, 19))
    state = evaluate([dispute], date(2026, 3, 1))
    plain = evaluate([], date(2026, 3, 1))
    assert plain.dpd == 29
    assert plain.bucket == "M1"
    assert (state.dpd, state.bucket) == (19, "M1")
    assert state.installments[0].dpd == 19
    assert penalty(plain) == 29 * FULL_DAY
    assert penalty(state) == 19 * FULL_DAY
    # No penalty is posted for a day of the dispute.
    for charge in state.charges:
        if charge.kind == "penalty":
            assert charge.last_day < date(2026, 2, 10) or charge.first_day > date(2026, 2, 19)


def test_the_reviewers_case_a_dispute_keeps_a_loan_out_of_m2_and_posts_no_penalty() -> None:
    # Disputed from 1 February to 31 March: on 15 March the loan has aged one day (31 Jan→
    # 1 Feb is the only day run) instead of 43, and owes one day of penalty, pending in grace.
    dispute = Hold("dispute", date(2026, 2, 2), date(2026, 3, 31))
    state = evaluate([dispute], date(2026, 3, 15))
    assert (state.dpd, state.bucket, state.stage) == (1, "M0", "grace")
    assert state.overdue.penalty == 0
    assert state.installments[0].pending_penalty == FULL_DAY
    after = evaluate([dispute], date(2026, 4, 3))  # 1 Feb, 1..3 April: four days run
    assert (after.dpd, after.bucket) == (4, "M1")
    assert penalty(after) == 4 * FULL_DAY
    assert after.total_charged("late_fee") == 1_000


def test_a_pause_over_the_due_date_and_grace_moves_grace_to_the_days_that_run() -> None:
    # Held 25 January to 5 February: grace counts 6, 7 and 8 February; paid on the 8th, the
    # instalment owes nothing; unpaid, the 9th posts four days of penalty and the late fee.
    hold = Hold("hardship", date(2026, 1, 25), date(2026, 2, 5))
    only_charges = Product("cn-cash", grace_days=3, late_fee=1_000, pause_charges=("hardship",))
    paid = evaluate([hold], date(2026, 3, 1), only_charges,
                    [Payment("P1", 1_000_000, date(2026, 2, 8))])  # fmt: skip
    assert paid.charged == 0
    assert paid.stage == "settled"
    late = evaluate([hold], date(2026, 2, 9), only_charges)
    assert penalty(late) == 4 * FULL_DAY
    assert late.total_charged("late_fee") == 1_000
    # Only the charges clock stops for this product: the loan is nine days past due.
    assert (late.dpd, late.bucket) == (9, "M1")


def test_only_the_clocks_and_kinds_the_product_names_stop() -> None:
    dispute = Hold("dispute", date(2026, 2, 10), date(2026, 2, 19))
    nothing = Product("cn-cash", grace_days=3, late_fee=1_000)
    ageing_only = Product("cn-cash", grace_days=3, late_fee=1_000, pause_ageing=("dispute",))
    assert evaluate([dispute], date(2026, 3, 1), nothing) == evaluate([], date(2026, 3, 1), nothing)
    aged = evaluate([dispute], date(2026, 3, 1), ageing_only)
    assert aged.dpd == 19
    assert penalty(aged) == 29 * FULL_DAY
    # A deceased hold is of no kind BOTH names: nothing stops.
    deceased = Hold("deceased", date(2026, 2, 10), date(2026, 2, 19))
    assert evaluate([deceased], date(2026, 3, 1)).dpd == 29


def test_an_open_hold_stops_the_clocks_until_it_is_lifted() -> None:
    open_hold = Hold("dispute", date(2026, 2, 11))
    state = evaluate([open_hold], date(2026, 6, 1))
    assert state.dpd == 10
    assert penalty(state) == 10 * FULL_DAY
    lifted = Hold("dispute", date(2026, 2, 11), date(2026, 5, 21))  # runs again 22 May
    assert evaluate([lifted], date(2026, 6, 1)).dpd == 21


def test_the_limitation_period_runs_from_the_due_date_whatever_the_pauses() -> None:
    state = evaluate([Hold("dispute", date(2026, 2, 1))], date(2026, 6, 1))
    assert state.dpd == 0
    assert state.oldest_past_due == date(2026, 1, 31)


def test_paused_days_still_count_in_the_cap_allowance() -> None:
    # The allowance follows the principal over every day; only charges stop.
    hold = Hold("dispute", date(2026, 2, 1), date(2026, 2, 28))
    loan = one_instalment_loan()
    with_pause = evaluate_loan(loan, [], day(40), product=BOTH, cap_rule=LICENSED,
                               calendar=WEEKDAYS,
                               pauses=Pauses.of([hold], ("dispute",), ("dispute",)))  # fmt: skip
    plain = evaluate_loan(loan, [], day(40), product=BOTH, cap_rule=LICENSED, calendar=WEEKDAYS)
    assert with_pause.allowance == plain.allowance
    assert with_pause.charged <= plain.charged


def test_spans_are_merged_and_counted() -> None:
    d = date(2026, 3, 1)
    spans = merged(
        [
            (d, d + timedelta(days=4)),
            (d + timedelta(days=5), d + timedelta(days=6)),
            (d + timedelta(days=2), d + timedelta(days=3)),
            (d + timedelta(days=20), None),
        ]
    )
    assert spans == ((d, d + timedelta(days=6)), (d + timedelta(days=20), None))
    pauses = Pauses(ageing=spans)
    assert pauses.days_stopped(AGEING, d - timedelta(days=1), d + timedelta(days=30)) == 7 + 11
    assert pauses.days_counted(AGEING, d, d + timedelta(days=10)) == 4
    assert pauses.next_stop(AGEING, d + timedelta(days=7)) == d + timedelta(days=20)
    assert pauses.next_stop(CHARGES, d) is None
    assert merged([(d, None), (d + timedelta(days=3), d + timedelta(days=9))]) == ((d, None),)


def test_a_product_refuses_a_hold_kind_the_packs_do_not_know() -> None:
    with pytest.raises(DomainError, match="pause_charges names 'Dispute'"):
        Product("p", pause_charges=("Dispute",))

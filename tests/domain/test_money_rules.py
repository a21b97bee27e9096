"""CONTRACT.md "Money rules", each at its boundary: a day or a fen off makes these fail.

The bullet loan owes 10,000.00 on 2026-01-31 at a 36 %/yr penalty rate over 360 days, so
a full day of penalty on the whole principal is exactly 10.00 (1,000 fen).
"""

from datetime import date
from fractions import Fraction

from arrears.domain.loan import Payment
from arrears.domain.product import Product
from tests.factories import day, evaluate, monthly_loan, one_instalment_loan

DUE = date(2026, 1, 31)
FULL_DAY = 1_000  # penalty for one day on 10,000.00 at 36 %/yr / 360
GRACE3 = Product("cn-cash", grace_days=3, late_fee=1_000)


def penalty(state_charges: object) -> int:
    return sum(c.amount for c in state_charges if c.kind == "penalty")  # type: ignore[attr-defined]


def test_an_instalment_paid_on_the_last_grace_day_owes_no_penalty_or_fee() -> None:
    state = evaluate(one_instalment_loan(), [Payment("P1", 1_000_000, day(3))], day(40), GRACE3)
    assert state.charged == 0
    assert state.charges == ()
    assert state.overdue.total == 0
    assert state.stage == "settled"


def test_one_day_beyond_grace_owes_penalty_from_the_due_date_and_the_late_fee() -> None:
    # Paid on due+4: owed at the start of that day are 3 days of penalty and the late fee.
    loan = one_instalment_loan()
    state = evaluate(loan, [Payment("P1", 1_004_000, day(4))], day(40), GRACE3)
    assert penalty(state.charges) == 3 * FULL_DAY
    assert state.total_charged("late_fee") == 1_000
    assert state.overdue.total == 0
    assert state.outstanding_principal == 0


def test_inside_grace_penalty_is_pending_and_owed_retroactively_once_grace_is_exceeded() -> None:
    loan = one_instalment_loan()
    inside = evaluate(loan, [], day(3), GRACE3)
    assert (inside.dpd, inside.bucket, inside.stage) == (3, "M0", "grace")
    assert inside.overdue.penalty == 0
    assert inside.installments[0].pending_penalty == 3 * FULL_DAY
    beyond = evaluate(loan, [], day(4), GRACE3)
    assert (beyond.dpd, beyond.bucket, beyond.stage) == (4, "M1", "early")
    assert beyond.overdue.penalty == 4 * FULL_DAY  # days due+1 .. due+4
    assert beyond.overdue.fees == 1_000
    assert beyond.overdue.total == 1_000_000 + 4 * FULL_DAY + 1_000


def test_grace_penalty_follows_the_principal_left_at_each_days_end() -> None:
    # Half paid on due+2: days +1 full, +2 and +3 on half; posted on +4 with +4's own half day.
    loan = one_instalment_loan()
    state = evaluate(loan, [Payment("P1", 500_000, day(2))], day(4), GRACE3)
    assert state.overdue.penalty == FULL_DAY + 3 * (FULL_DAY // 2)


def test_a_payment_on_day_t_pays_penalty_through_t_minus_1_then_day_t_accrues_on_the_rest() -> None:
    loan = one_instalment_loan()
    # At the start of due+10 the borrower owes days +1..+9 of penalty and the late fee:
    # 1,000,000 pays those 10,000 fen first, leaving 10,000 fen of principal overdue at the
    # end of day +10, which accrues that day's penalty: 10,000 × 0.36 / 360 = 10 fen.
    state = evaluate(loan, [Payment("P1", 1_000_000, day(10))], day(10), GRACE3)
    assert state.outstanding_principal == 10_000
    assert state.overdue.penalty == 10
    assert penalty(state.charges) == 9 * FULL_DAY + 10


def test_penalty_rounds_half_up_to_the_fen_each_day() -> None:
    # 1,250 fen × 0.36 / 360 = 1.25 fen → 1; 1,500 fen → 1.5 → 2 (half up), every day.
    for principal, daily in ((1_250, 1), (1_500, 2)):
        state = evaluate(one_instalment_loan(principal=principal), [], day(10), GRACE3)
        assert state.overdue.penalty == 10 * daily


def test_penalty_rate_defaults_to_the_contract_rate_times_the_product_multiplier() -> None:
    loan = one_instalment_loan(rate="0.24", penalty_rate=None)  # 0.24 × 1.5 = 0.36
    state = evaluate(loan, [], day(5), Product("cn-cash", grace_days=0))
    assert state.penalty_rate == Fraction(36, 100)
    assert state.overdue.penalty == 5 * FULL_DAY


def test_the_late_fee_is_posted_once_on_the_first_day_beyond_grace() -> None:
    state = evaluate(one_instalment_loan(), [], day(60), GRACE3)
    fees = [c for c in state.charges if c.kind == "late_fee"]
    assert [(c.posted_on, c.amount) for c in fees] == [(day(4), 1_000)]


def test_days_past_due_and_buckets_at_their_boundaries() -> None:
    loan = one_instalment_loan()
    expected = {3: "M0", 4: "M1", 30: "M1", 31: "M2", 60: "M2", 61: "M3", 180: "M6", 181: "M7+"}
    for offset, bucket in expected.items():
        state = evaluate(loan, [], day(offset), GRACE3)
        assert (state.dpd, state.bucket) == (offset, bucket)
    assert evaluate(loan, [], DUE, GRACE3).dpd == 0  # the due date itself is not past due


def test_payments_pay_the_oldest_instalment_first_in_the_default_order() -> None:
    loan = monthly_loan([(100_000, 1_500), (100_000, 1_000), (100_000, 500)])
    product = Product("cn-cash", grace_days=0)
    state = evaluate(loan, [Payment("P1", 150_000, date(2026, 3, 5))], date(2026, 3, 5), product)
    paid = [(a.seq, a.component, a.amount) for a in state.allocations]
    first_penalty, second_penalty = paid[0][2], paid[3][2]
    assert [(s, c) for s, c, _ in paid] == [
        (1, "penalty"),
        (1, "interest"),
        (1, "principal"),
        (2, "penalty"),
        (2, "interest"),
        (2, "principal"),
    ]
    assert paid[1][2] == 1_500
    assert paid[2][2] == 100_000
    assert paid[4][2] == 1_000
    assert sum(a for _, _, a in paid) == 150_000
    assert paid[5][2] == 150_000 - first_penalty - 1_500 - 100_000 - second_penalty - 1_000


def test_a_product_may_order_principal_first() -> None:
    loan = monthly_loan([(100_000, 1_500)])
    product = Product(
        "p", grace_days=0, allocation=("principal", "interest", "penalty", "fees"), late_fee=500
    )
    state = evaluate(loan, [Payment("P1", 100_700, date(2026, 2, 11))], date(2026, 2, 11), product)
    assert [(a.component, a.amount) for a in state.allocations] == [
        ("principal", 100_000),
        ("interest", 700),
    ]
    assert state.overdue.interest == 800


def test_money_beyond_all_dues_pays_future_instalments_then_becomes_credit() -> None:
    loan = monthly_loan([(100_000, 1_500), (100_000, 1_000)])
    state = evaluate(loan, [Payment("P1", 203_000, date(2026, 1, 20))], date(2026, 1, 20))
    assert [(a.seq, a.component, a.amount) for a in state.allocations] == [
        (1, "interest", 1_500),
        (1, "principal", 100_000),
        (2, "interest", 1_000),
        (2, "principal", 100_000),
        (None, "credit", 500),
    ]
    assert state.credit == 500
    assert state.stage == "settled"


def test_a_loan_before_its_contract_date_owes_nothing_yet_and_is_not_lent() -> None:
    loan = one_instalment_loan(due=date(2026, 1, 3))  # due two days after it is signed
    before = evaluate(loan, [], loan.contract_date - date.resolution, GRACE3)
    assert (before.stage, before.dpd, before.overdue.total, before.charged) == ("not_lent", 0, 0, 0)
    assert evaluate(loan, [], loan.contract_date, GRACE3).stage == "pre_due"

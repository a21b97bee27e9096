"""A loan's credit-bureau record of a month, read from the domain's evaluation of its last day;
the 24-month grid; the pack rules a record waits on, at their boundaries."""

from datetime import date
from fractions import Fraction
from typing import Any

import pytest

from arrears.domain.bureau import (
    CONTACTED_FIRST,
    PRE_NOTICE,
    Evidence,
    MonthRecord,
    ReportingRule,
    grid,
    month_of,
    month_record,
    months_before,
    withheld,
)
from arrears.domain.contact import Hold
from arrears.domain.errors import DomainError, Refusal
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.pauses import Pauses
from arrears.domain.product import Product
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState
from tests.factories import evaluate

# Lent on 15 January 2026: 1,000.00 a month with 20.00 interest, due on the 15th of February,
# March and April; 5 days of grace.
LOAN = Loan(
    "L1", "B1", "p", "CNY", 300_000, Fraction("0.24"), date(2026, 1, 15),
    (Installment(1, date(2026, 2, 15), 100_000, 2_000),
     Installment(2, date(2026, 3, 15), 100_000, 2_000),
     Installment(3, date(2026, 4, 15), 100_000, 2_000)),
    Fraction("0.365"),
)  # fmt: skip
PRODUCT = Product("p", grace_days=5)


def record(
    month: str, payments: list[Payment] | None = None, loan: Loan = LOAN, **terms: Any
) -> MonthRecord | None:
    """The loan's record of the month (YYYY-MM), with these payments (and evaluate's terms)."""
    first, last = month_of(month)
    paid = payments or []

    def state_on(day: date) -> LoanState:
        return evaluate(loan, paid, day, PRODUCT, **terms)

    return month_record(loan, paid, state_on(last), first, state_on)


def test_a_month_is_written_yyyy_mm() -> None:
    assert month_of("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    for bad in ("2024-2", "2024-13", "24-02", "2024-02-01", "", "0999-01"):
        with pytest.raises(Refusal, match="a month is written YYYY-MM"):
            month_of(bad)
    assert months_before(date(2026, 2, 1), 3) == [date(2025, 11, 1), date(2025, 12, 1),
                                                   date(2026, 1, 1)]  # fmt: skip


def test_no_record_before_the_loan_is_lent_and_nothing_fell_due_in_its_first_month() -> None:
    assert record("2025-12") is None
    first = record("2026-01")
    assert first is not None
    assert (first.status, first.balance, first.due_in_month, first.overdue) == ("*", 300_000, 0, 0)


def test_a_line_paid_on_time_is_n_and_the_month_counts_what_fell_due_and_was_paid() -> None:
    paid = [Payment("P1", 102_000, date(2026, 2, 14))]
    february = record("2026-02", paid)
    assert february is not None
    assert (february.status, february.dpd, february.overdue_lines) == ("N", 0, 0)
    assert (february.due_in_month, february.paid_in_month) == (102_000, 102_000)
    assert february.last_paid_on == date(2026, 2, 14)
    assert february.balance == 200_000


def test_a_line_unpaid_at_the_months_end_gives_its_bucket_beyond_grace() -> None:
    # Due 15 February, unpaid: 13 days past due on the 28th (beyond 5 days' grace): M1.
    february = record("2026-02")
    assert february is not None
    assert (february.status, february.dpd, february.overdue_lines) == ("1", 13, 1)
    assert february.overdue_principal == 100_000
    assert february.overdue > 102_000  # the penalty accrued too
    assert february.negative
    # 44 days on 31 March (M2), two lines past due.
    march = record("2026-03")
    assert march is not None
    assert (march.status, march.overdue_lines) == ("2", 2)
    # Three days past due at the month's end, inside grace: N, not negative.
    grace = Loan(**{**LOAN.__dict__, "installments": (
        Installment(1, date(2026, 2, 25), 100_000, 2_000),)})  # fmt: skip
    inside = record("2026-02", loan=grace)
    assert inside is not None
    assert (inside.status, inside.dpd) == ("N", 3)


def test_a_loan_settled_in_the_month_is_c_and_then_has_no_record() -> None:
    # All it owes paid early in March (the first line's penalty since 15 February too).
    paid = [Payment("P1", evaluate(LOAN, [], date(2026, 3, 3), PRODUCT).owed_in_all,
                    date(2026, 3, 3))]  # fmt: skip
    march = record("2026-03", paid)
    assert march is not None
    assert (march.status, march.balance, march.overdue) == ("C", 0, 0)
    assert record("2026-04", paid) is None


def test_a_record_is_of_a_months_last_day() -> None:
    state = evaluate(LOAN, [], date(2026, 2, 27), PRODUCT)
    with pytest.raises(DomainError, match="a month's record is of its last day"):
        month_record(LOAN, [], state, date(2026, 2, 1), lambda _: state)


def test_money_paid_after_the_loan_closed_opens_no_new_record() -> None:
    # helper-95: 50.00 paid in April on a loan closed in March (held as credit) gave a
    # second `C`.
    owed = evaluate(LOAN, [], date(2026, 3, 3), PRODUCT).owed_in_all
    paid = [Payment("P1", owed, date(2026, 3, 3)), Payment("P2", 5_000, date(2026, 4, 10))]
    march = record("2026-03", paid)
    assert march is not None
    assert march.status == "C"
    assert record("2026-04", paid) is None


def test_a_loan_whose_schedule_has_not_all_arrived_is_not_closed() -> None:
    # helper-95: lent 3,000.00, a schedule of 1,000.00 so far, paid: 2,000.00 still owed.
    part = Loan(**{**LOAN.__dict__, "installments": LOAN.installments[:1]})
    paid = [Payment("P1", 102_000, date(2026, 2, 14))]
    february = record("2026-02", paid, loan=part)
    assert february is not None
    assert (february.status, february.balance) == ("N", 200_000)
    assert record("2026-03", paid, loan=part) is not None
    # Paid over by more than the rest: held as credit, the rest still lent: not closed.
    over = [Payment("P1", 402_000, date(2026, 2, 14))]
    state = evaluate(part, over, date(2026, 2, 28), PRODUCT)
    assert (state.owed_in_all, state.outstanding_principal) == (0, 200_000)
    flush = record("2026-02", over, loan=part)
    assert flush is not None
    assert flush.status == "N"


def test_money_past_due_is_never_star_even_with_the_ageing_clock_stopped() -> None:
    # helper-95: a hold stopping the ageing clock from 10 February keeps dpd at 0.
    # Its one line fell due on 15 February: nothing falls due in March.
    one = Loan(**{**LOAN.__dict__, "installments": LOAN.installments[:1]})
    held = Pauses.of([Hold("dispute", date(2026, 2, 10))], ("dispute",), ())
    march = record("2026-03", loan=one, pauses=held)
    assert march is not None
    assert (march.dpd, march.due_in_month, march.overdue_lines) == (0, 0, 1)
    assert march.status == "N"


def test_a_line_due_on_the_months_last_day_is_not_past_due_in_it() -> None:
    loan = Loan(**{**LOAN.__dict__, "installments": (
        Installment(1, date(2026, 2, 28), 100_000, 2_000),)})  # fmt: skip
    february = record("2026-02", loan=loan)
    assert february is not None
    assert (february.status, february.overdue_lines, february.due_in_month) == ("N", 0, 102_000)


def test_payments_after_the_months_end_are_not_in_its_record() -> None:
    paid = [Payment("P1", 102_000, date(2026, 2, 14)), Payment("P2", 500, date(2026, 3, 1))]
    february = record("2026-02", paid)
    assert february is not None
    assert (february.paid_in_month, february.last_paid_on) == (102_000, date(2026, 2, 14))


def test_a_plans_parts_falling_due_in_the_month_count_in_what_fell_due() -> None:
    # February's line unpaid, re-split on 1 March into two monthly parts: March asks its
    # own line and nothing of the plan; the plan's first part falls due in April.
    plan = [Revision("plan", date(2026, 3, 1), months=2)]
    april = record("2026-04", revisions=plan)
    assert april is not None
    state = evaluate(LOAN, [], date(2026, 4, 30), PRODUCT, revisions=plan)
    ((first_part, *_),) = [p.parts for p in state.plans]
    assert date(2026, 4, 1) <= first_part.due_date <= date(2026, 4, 30)
    line = 100_000 + 2_000  # April's own line
    assert april.due_in_month == line + first_part.principal + first_part.interest


def test_the_grid_shows_24_months_with_what_was_furnished() -> None:
    month = date(2026, 4, 1)
    earlier = {date(2026, 2, 1): "1", date(2026, 3, 1): "2"}
    shown = grid(month, "3", earlier, lent_on=date(2026, 1, 15))
    assert len(shown) == 24
    # Lent in January: the months before it `/`; January not furnished `#`; then 1, 2, 3.
    assert shown == "/" * 20 + "#123"
    # A loan lent on a month's last day has that month in its grid.
    assert grid(date(2026, 2, 1), "N", {}, lent_on=date(2026, 1, 31)).endswith("/#N")


PRE = ReportingRule("cn.credit_pre_notice", PRE_NOTICE, "征信业管理条例 第十五条", True,
                    action="credit_pre_notice")  # fmt: skip
FIRST = ReportingRule("us.passive_collection", CONTACTED_FIRST, "12 CFR 1006.30(a)", True,
                      outcomes=("connected", "refused", "inbound"), letter_days=14)  # fmt: skip


def negative(status: str = "2") -> MonthRecord:
    return MonthRecord("L1", "B1", date(2026, 3, 1), status, 44, 300_000, 210_000, 200_000, 2,
                       102_000, 0, None)  # fmt: skip


def test_the_first_negative_record_waits_for_the_pre_notice() -> None:
    assert "no credit_pre_notice done by 2026-03-31" in str(withheld(PRE, negative(), Evidence()))
    told = Evidence(told_on=(date(2026, 3, 31),))
    assert withheld(PRE, negative(), told) is None  # told on the month's last day
    late = Evidence(told_on=(date(2026, 4, 1),))
    assert withheld(PRE, negative(), late) is not None
    # A record telling of nothing past due needs no notice; nor does a later negative one.
    assert withheld(PRE, negative("N"), Evidence()) is None
    assert withheld(PRE, negative(), Evidence(furnished_before=True, negative_before=True)) is None
    # A furnished record that told of nothing past due is no notice.
    assert withheld(PRE, negative(), Evidence(furnished_before=True)) is not None
    assert withheld(None, negative(), Evidence()) is None


def test_nothing_is_furnished_before_the_consumer_is_reached() -> None:
    detail = withheld(FIRST, negative("N"), Evidence())
    assert "sent a letter, e-mail or text by 2026-03-17" in str(detail)
    assert withheld(FIRST, negative("N"), Evidence(spoken_on=(date(2026, 3, 31),))) is None
    # A letter out 14 days before the month's end; one 13 days before waits.
    assert withheld(FIRST, negative("N"), Evidence(written_on=(date(2026, 3, 17),))) is None
    assert withheld(FIRST, negative("N"), Evidence(written_on=(date(2026, 3, 18),))) is not None
    assert withheld(FIRST, negative("N"), Evidence(furnished_before=True)) is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ReportingRule("r", "other", "s", True), "kind must be pre_notice"),
        (lambda: ReportingRule("r", PRE_NOTICE, " ", True, action="letter"), "cites its legal"),
        (lambda: ReportingRule("r", PRE_NOTICE, "s", True, action="fax"), "not 'fax'"),
        (lambda: ReportingRule("r", CONTACTED_FIRST, "s", True), "names the outcomes"),
        (lambda: ReportingRule("r", CONTACTED_FIRST, "s", True, outcomes=("connected",),
                               letter_days=-1), "waits"),
    ],
)  # fmt: skip
def test_a_bad_reporting_rule_is_refused(make: object, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        make()  # type: ignore[operator]

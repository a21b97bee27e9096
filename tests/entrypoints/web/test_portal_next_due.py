"""The portal's next instalment: the first one with something owed that is not yet past due,
on its effective due date (a holiday rule, an extension), asking what is still unpaid."""

from dataclasses import replace
from datetime import date

from arrears.domain.calendar import effective_due_date
from arrears.domain.loan import Payment
from arrears.domain.revisions import Revision
from arrears.entrypoints.web.portal_views import _due_on, next_due
from tests.entrypoints.web.desk_book import Desk
from tests.factories import WEEKDAYS, evaluate, monthly_loan

LOAN = monthly_loan([(10_000, 500), (10_000, 400), (10_000, 300)])  # due 1 Feb, 1 Mar, 1 Apr


def as_scheduled(due: date) -> date:
    return due


def next_business_day(due: date) -> date:
    return effective_due_date(due, "next_business_day", WEEKDAYS)


def test_before_the_first_due_date_it_is_the_first_instalment() -> None:
    state = evaluate(LOAN, as_of=date(2026, 1, 15))
    assert next_due(state, as_scheduled) == {"due_date": "2026-02-01", "amount": "105.00"}
    # 1 February 2026 is a Sunday: under the next-business-day rule it falls due on Monday.
    assert next_due(state, next_business_day) == {"due_date": "2026-02-02", "amount": "105.00"}


def test_on_its_due_day_an_unpaid_instalment_is_still_the_next() -> None:
    state = evaluate(LOAN, as_of=date(2026, 2, 1))
    assert next_due(state, as_scheduled) == {"due_date": "2026-02-01", "amount": "105.00"}


def test_once_past_due_the_next_is_the_one_after() -> None:
    state = evaluate(LOAN, as_of=date(2026, 2, 10))
    assert state.overdue.total > 0
    assert next_due(state, as_scheduled) == {"due_date": "2026-03-01", "amount": "104.00"}


def test_paid_in_part_ahead_it_asks_what_is_left() -> None:
    paid = [Payment("P1", 5_000, date(2026, 1, 20))]  # interest 5.00 first, then principal
    state = evaluate(LOAN, paid, as_of=date(2026, 1, 25))
    assert next_due(state, as_scheduled) == {"due_date": "2026-02-01", "amount": "55.00"}


def test_an_extension_moves_the_day() -> None:
    state = evaluate(LOAN, as_of=date(2026, 1, 25),
                     revisions=[Revision("extension", date(2026, 1, 20), days=10)])  # fmt: skip
    assert next_due(state, as_scheduled) == {"due_date": "2026-02-11", "amount": "105.00"}


def test_a_loan_paid_off_has_none() -> None:
    paid = [Payment("P1", 31_200, date(2026, 1, 20))]
    assert next_due(evaluate(LOAN, paid, as_of=date(2026, 1, 25)), as_scheduled) is None


def test_the_statement_moves_a_day_by_the_products_holiday_rule(desk: Desk) -> None:
    us = replace(LOAN, product="us-installment", currency="USD")
    cn = replace(LOAN, product="cn-cash")
    christmas = date(2025, 12, 25)  # a Thursday, a US federal holiday
    assert _due_on(desk.app, us, christmas) == date(2025, 12, 26)
    assert _due_on(desk.app, us, date(2026, 2, 1)) == date(2026, 2, 2)  # a Sunday
    assert _due_on(desk.app, cn, date(2026, 2, 1)) == date(2026, 2, 1)  # cn-cash: "none"

"""Effective due dates on the business calendar, with holidays and 调休 make-up days."""

from datetime import date, timedelta

import pytest

from arrears.domain.calendar import BusinessCalendar, effective_due_date
from arrears.domain.errors import CalendarNotPublished
from arrears.domain.product import Product
from tests.factories import evaluate, one_instalment_loan

# 2025 National Day and Mid-Autumn: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 worked.
GOLDEN_WEEK = frozenset(date(2025, 10, 1) + timedelta(days=i) for i in range(8))
CN_2025 = BusinessCalendar(
    GOLDEN_WEEK, frozenset({date(2025, 9, 28), date(2025, 10, 11)}), frozenset({2025})
)


def test_a_due_date_in_a_holiday_moves_to_the_next_business_day() -> None:
    assert effective_due_date(date(2025, 10, 1), "next_business_day", CN_2025) == date(2025, 10, 9)


def test_a_make_up_working_sunday_is_a_business_day() -> None:
    assert effective_due_date(date(2025, 9, 28), "next_business_day", CN_2025) == date(2025, 9, 28)


def test_an_ordinary_saturday_moves_to_monday_but_a_make_up_saturday_does_not() -> None:
    assert effective_due_date(date(2025, 10, 18), "next_business_day", CN_2025) == date(
        2025, 10, 20
    )
    assert effective_due_date(date(2025, 10, 11), "next_business_day", CN_2025) == date(
        2025, 10, 11
    )


def test_holiday_rule_none_keeps_the_due_date() -> None:
    assert effective_due_date(date(2025, 10, 1), "none", CN_2025) == date(2025, 10, 1)


def test_days_past_due_count_from_the_effective_due_date() -> None:
    loan = one_instalment_loan(due=date(2025, 10, 1))
    loan = type(loan)(**{**loan.__dict__, "contract_date": date(2025, 9, 1)})
    shifted = Product("cn-cash", holiday_rule="next_business_day", grace_days=3)
    state = evaluate(loan, [], date(2025, 10, 12), shifted, calendar=CN_2025)
    assert state.dpd == 3  # 10-12 minus 10-09, still inside grace
    assert state.overdue.penalty == 0
    assert evaluate(loan, [], date(2025, 10, 12), Product("cn-cash"), calendar=CN_2025).dpd == 11


def test_a_year_without_published_make_up_days_is_refused() -> None:
    with pytest.raises(CalendarNotPublished, match="2026 is not published"):
        CN_2025.is_business_day(date(2026, 1, 5))

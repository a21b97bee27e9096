"""The Chinese business calendar from `holidays`, cross-checked against `chinesecalendar`."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from arrears.adapters.calendar_source import CalendarYear, business_calendar
from arrears.domain.errors import CalendarNotPublished


def test_every_day_2024_to_2026_agrees_with_chinesecalendar() -> None:
    calendar = business_calendar("cn", range(2024, 2027))
    day, disagreements = date(2024, 1, 1), []
    while day <= date(2026, 12, 31):
        if calendar.is_business_day(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


def test_make_up_working_days_are_business_days() -> None:
    calendar = business_calendar("cn", [2025])
    assert calendar.is_business_day(date(2025, 1, 26))  # Sunday worked for the Spring Festival
    assert not calendar.is_business_day(date(2025, 2, 4))  # weekday off, made up on 02-08
    assert calendar.next_business_day(date(2025, 10, 1)) == date(2025, 10, 9)


def test_a_year_without_published_make_up_days_is_refused() -> None:
    calendar = business_calendar("cn", [2026, 2027])
    with pytest.raises(CalendarNotPublished, match="2027"):
        calendar.is_business_day(date(2027, 3, 1))


def test_the_override_table_publishes_a_year() -> None:
    override = CalendarYear(2027, frozenset({date(2027, 1, 1)}), frozenset({date(2027, 1, 2)}))
    calendar = business_calendar("cn", [2027], (override,))
    assert not calendar.is_business_day(date(2027, 1, 1))  # Friday, declared a holiday
    assert calendar.is_business_day(date(2027, 1, 2))  # Saturday, declared worked
    assert calendar.is_business_day(date(2027, 1, 4))


def test_us_and_uk_calendars_know_their_statutory_holidays() -> None:
    assert business_calendar("us", [2026]).next_business_day(date(2026, 7, 3)) == date(2026, 7, 6)
    assert business_calendar("uk", [2026]).next_business_day(date(2026, 12, 25)) == date(
        2026, 12, 29
    )

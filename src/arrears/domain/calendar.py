"""The business calendar: holidays, 调休 make-up working days, and effective due dates."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.errors import CalendarNotPublished, DomainError

HOLIDAY_RULES = ("none", "next_business_day")
# A run of more than this many non-business days means a broken calendar, not a holiday.
_MAX_CLOSED_RUN = 31


@dataclass(frozen=True)
class BusinessCalendar:
    """Days off and make-up working days, for the years whose schedule is published."""

    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    published_years: frozenset[int]

    @classmethod
    def weekends_only(cls, years: Iterable[int]) -> "BusinessCalendar":
        """A calendar with no holidays (Monday to Friday), for the given years."""
        return cls(frozenset(), frozenset(), frozenset(years))

    def is_business_day(self, day: date) -> bool:
        """True on working days: make-up days work, holidays rest, else Monday-Friday."""
        if day.year not in self.published_years:
            raise CalendarNotPublished(day.year)
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_business_day(self, day: date) -> date:
        """The first business day on or after `day`."""
        current = day
        for _ in range(_MAX_CLOSED_RUN):
            if self.is_business_day(current):
                return current
            current += timedelta(days=1)
        raise DomainError(f"no business day within {_MAX_CLOSED_RUN} days of {day}")


def effective_due_date(due: date, holiday_rule: str, calendar: BusinessCalendar) -> date:
    """The due date, or with `next_business_day` the first business day on or after it."""
    if holiday_rule == "none":
        return due
    if holiday_rule == "next_business_day":
        return calendar.next_business_day(due)
    raise DomainError(f"unknown holiday_rule {holiday_rule!r}; expected one of {HOLIDAY_RULES}")

"""Build business calendars from the `holidays` package plus override tables."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import holidays

from arrears.adapters.packs import read_pack
from arrears.domain.calendar import BusinessCalendar

# The `holidays` country calendars used for each jurisdiction's business days.
_COUNTRY = {"cn": "CN", "us": "US", "uk": "GB"}


@dataclass(frozen=True)
class CalendarYear:
    """One year's official days off and make-up working days, overriding the package's."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]


def calendar_years(entries: Iterable[dict[str, Any]]) -> tuple[CalendarYear, ...]:
    """Parse [[year]] override entries (year, holidays, workdays)."""
    years = []
    for entry in entries:
        year = int(entry["year"])
        days_off = frozenset(date.fromisoformat(str(d)) for d in entry.get("holidays", []))
        workdays = frozenset(date.fromisoformat(str(d)) for d in entry.get("workdays", []))
        if any(d.year != year for d in days_off | workdays):
            raise ValueError(f"calendar override for {year} lists a day of another year")
        years.append(CalendarYear(year, days_off, workdays))
    return tuple(years)


def business_calendar(
    jurisdiction: str, years: Iterable[int], overrides: tuple[CalendarYear, ...] = ()
) -> BusinessCalendar:
    """The calendar for a jurisdiction over `years` (China: only years with published 调休)."""
    shipped = calendar_years(read_pack("calendar_cn.toml").get("year", []))
    chosen = shipped + overrides if jurisdiction == "cn" else ()
    return _build(jurisdiction, tuple(sorted(set(years))), chosen)


@lru_cache(maxsize=32)
def _build(
    jurisdiction: str, years: tuple[int, ...], overrides: tuple[CalendarYear, ...]
) -> BusinessCalendar:
    country = holidays.country_holidays(_COUNTRY[jurisdiction], years=years)
    days_off = {d for d in country if d.year in years}
    if jurisdiction != "cn":
        # Holidays fixed by statute and rule each year: every year is known.
        return BusinessCalendar(frozenset(days_off), frozenset(), frozenset(years))
    workdays = {d for d in getattr(country, "weekend_workdays", ()) if d.year in years}
    published = {d.year for d in workdays}
    for entry in overrides:  # later entries win
        if entry.year in years:
            published.add(entry.year)
            days_off = {d for d in days_off if d.year != entry.year} | entry.holidays
            workdays = {d for d in workdays if d.year != entry.year} | entry.workdays
    return BusinessCalendar(frozenset(days_off), frozenset(workdays), frozenset(published))

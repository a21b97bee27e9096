"""Build business calendars from the `holidays` package plus override tables.

The package's answer for a jurisdiction and years is kept in a cache folder
($ARREARS_CACHE_DIR, else $XDG_CACHE_HOME/arrears, else ~/.cache/arrears), by the package's
version: loading the package's tables imports every country's module (~0.3 s a process,
measured), more than a nightly run spends on some of its steps.
"""

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from arrears.adapters.json_file import write_json_atomically
from arrears.adapters.packs import read_pack
from arrears.domain.calendar import BusinessCalendar
from arrears.domain.day_range import DAY_TEXT, FIRST_DAY, LAST_DAY

CACHE_ENV = "ARREARS_CACHE_DIR"
# The `holidays` calendars used for each jurisdiction's business days: the country, and the
# part of it whose days count. The UK's are England and Wales' bank holidays (Banking and
# Financial Dealings Act 1971, Schedule 1), on which Bacs, and so direct debits, do not run:
# the country's own list holds only the days every nation shares (no Easter Monday, no
# late-summer bank holiday). The US's are the federal holidays the Federal Reserve keeps.
_COUNTRY: dict[str, tuple[str, str | None]] = {
    "cn": ("CN", None), "us": ("US", None), "uk": ("GB", "ENG"),
}  # fmt: skip


@dataclass(frozen=True)
class CalendarYear:
    """One year's official days off and make-up working days, overriding the package's."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]


def calendar_years(entries: Iterable[dict[str, Any]]) -> tuple[CalendarYear, ...]:
    """Parse [[year]] override entries (year, holidays, workdays), or ValueError naming the
    entry and key (`calendar_cn.year[0].holidays[2]`)."""
    years: list[CalendarYear] = []
    for number, entry in enumerate(entries):
        where = f"calendar_cn.year[{number}]"
        year = entry["year"]
        if not isinstance(year, int) or isinstance(year, bool):
            raise ValueError(f"{where}.year must be an integer, got {year!r}")
        if not FIRST_DAY.year <= year <= LAST_DAY.year:
            raise ValueError(f"{where}.year {year} is outside {FIRST_DAY.year}-{LAST_DAY.year}")
        earlier = next((n for n, y in enumerate(years) if y.year == year), None)
        if earlier is not None:
            raise ValueError(f"{where}.year {year} is given twice (calendar_cn.year[{earlier}])")
        days_off, workdays = (_days(entry, key, where, year) for key in ("holidays", "workdays"))
        both = sorted(days_off & workdays)
        if both:
            raise ValueError(f"{where}: {both[0]} is both a holiday and a make-up working day")
        years.append(CalendarYear(year, days_off, workdays))
    return tuple(years)


def _days(entry: dict[str, Any], key: str, where: str, year: int) -> frozenset[date]:
    """The days listed under `key`: TOML dates or YYYY-MM-DD texts, all in `year`."""
    days = set()
    for number, value in enumerate(entry.get(key, [])):
        place = f"{where}.{key}[{number}]"
        if isinstance(value, datetime) or not isinstance(value, date | str):
            raise ValueError(f"{place} must be a day (YYYY-MM-DD), got {value!r}")
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value) if DAY_TEXT.fullmatch(value) else None
            except ValueError:
                value = None
            if value is None:
                raise ValueError(f"{place} {entry[key][number]!r} is not a day (YYYY-MM-DD)")
        if value.year != year:
            raise ValueError(f"{place} {value} is not in {year}")
        days.add(value)
    return frozenset(days)


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
    days_off, workdays = package_days(jurisdiction, years)
    if jurisdiction != "cn":
        # Holidays fixed by statute and rule each year: every year is known.
        return BusinessCalendar(days_off, frozenset(), frozenset(years))
    published = {d.year for d in workdays}
    for entry in overrides:  # later entries win
        if entry.year in years:
            published.add(entry.year)
            days_off = frozenset(d for d in days_off if d.year != entry.year) | entry.holidays
            workdays = frozenset(d for d in workdays if d.year != entry.year) | entry.workdays
    return BusinessCalendar(days_off, workdays, frozenset(published))


def package_days(
    jurisdiction: str, years: tuple[int, ...]
) -> tuple[frozenset[date], frozenset[date]]:
    """The package's days off and make-up working days in `years` (from the cache when it
    holds them; else worked out and kept there)."""
    path = _cache_file(jurisdiction, years)
    if path is not None and path.is_file():
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            return _dates(kept["days_off"]), _dates(kept["workdays"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable (a damaged file): worked out again and rewritten below
    import holidays  # here, not at the top: a process whose calendars are cached skips it

    code, part = _COUNTRY[jurisdiction]
    country = holidays.country_holidays(code, subdiv=part, years=years)
    days_off = frozenset(d for d in country if d.year in years)
    workdays = frozenset(d for d in getattr(country, "weekend_workdays", ()) if d.year in years)
    if path is not None:
        kept = {"days_off": sorted(map(str, days_off)), "workdays": sorted(map(str, workdays))}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomically(path, kept)
        except OSError:
            pass  # an unwritable cache (a read-only home) only costs the next process the load
    return days_off, workdays


def _dates(texts: list[str]) -> frozenset[date]:
    return frozenset(date.fromisoformat(text) for text in texts)


def _cache_file(jurisdiction: str, years: tuple[int, ...]) -> Path | None:
    """Where the package's answer is kept: a folder per package version (the hash of its
    version module, read without importing the package); None without the package."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    version = (Path(spec.origin).parent / "version.py").read_bytes()
    key = hashlib.sha256(version).hexdigest()[:16]
    # The part of the country in the name: a calendar kept before it was chosen is not read.
    code, part = _COUNTRY[jurisdiction]
    name = f"{jurisdiction}-{part or code}-{_years_key(years)}.json"
    return _cache_root() / "calendars" / key / name


def _years_key(years: tuple[int, ...]) -> str:
    """A short file-name key for sorted years: first-last when they run without a gap, else
    with a digest of them too (a name listing fifty years is longer than a file system takes)."""
    if not years:
        return "none"
    span = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    if years == tuple(range(years[0], years[-1] + 1)):
        return span
    return f"{span}-{hashlib.sha256(repr(years).encode()).hexdigest()[:12]}"


def _cache_root() -> Path:
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "arrears"

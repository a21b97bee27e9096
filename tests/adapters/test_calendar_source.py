"""The Chinese business calendar from `holidays`, cross-checked against `chinesecalendar`;
the package's answers kept in the cache folder."""

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest

from arrears.adapters.calendar_source import (
    CACHE_ENV,
    CalendarYear,
    business_calendar,
    package_days,
)
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
    # England and Wales' bank holidays, which Bacs keeps, not only those all nations share
    # (helper-56: a loan due on Easter Monday fell due that day, a day early).
    uk = business_calendar("uk", [2026])
    assert uk.next_business_day(date(2026, 4, 3)) == date(2026, 4, 7)  # Good Friday, Easter
    assert uk.next_business_day(date(2026, 8, 31)) == date(2026, 9, 1)  # late summer


_SHOW = """
import json, sys
from arrears.adapters.calendar_source import business_calendar
calendar = business_calendar("cn", [2025, 2026])
print(json.dumps({"package": "holidays" in sys.modules,
                  "off": sorted(map(str, calendar.holidays)),
                  "worked": sorted(map(str, calendar.makeup_workdays))}))
"""


def _show_in_a_new_process(cache: Path) -> dict[str, Any]:
    env = {**os.environ, CACHE_ENV: str(cache)}
    done = subprocess.run([sys.executable, "-c", _SHOW], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


def test_a_calendar_worked_out_once_is_read_back_without_the_package(tmp_path: Path) -> None:
    first = _show_in_a_new_process(tmp_path)
    second = _show_in_a_new_process(tmp_path)
    assert first["package"] is True
    assert second["package"] is False
    assert (second["off"], second["worked"]) == (first["off"], first["worked"])
    assert "2025-10-01" in first["off"]  # National Day
    assert "2025-01-26" in first["worked"]  # a Sunday worked for the Spring Festival
    assert len(list(tmp_path.glob("calendars/*/cn-CN-2025-2026.json"))) == 1


def test_a_damaged_cache_file_is_worked_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    fresh = package_days("us", (2026,))
    (kept,) = tmp_path.glob("calendars/*/us-US-2026.json")
    kept.write_text('{"days_off": ["2026-13-')
    assert package_days("us", (2026,)) == fresh
    assert json.loads(kept.read_text())["days_off"] == sorted(map(str, fresh[0]))
    assert date(2026, 7, 3) in fresh[0]  # Independence Day observed on the Friday


def test_many_years_or_years_with_a_gap_are_kept_under_a_short_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A loan looked at fifty years on spans fifty years: a name listing each was too long.
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    many = tuple(range(2026, 2076))
    assert date(2075, 7, 4) in package_days("us", many)[0]
    gapped = package_days("us", (2026, 2030))
    assert date(2030, 7, 4) in gapped[0]
    assert date(2028, 7, 4) not in gapped[0]
    names = {p.name for p in tmp_path.glob("calendars/*/*.json")}
    assert "us-US-2026-2075.json" in names
    (other,) = names - {"us-US-2026-2075.json"}
    assert other.startswith("us-US-2026-2030-")  # not the run 2026..2030: a name of its own

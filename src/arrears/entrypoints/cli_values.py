"""Dates and instants as the command line takes them: strictly CONTRACT.md's ISO forms.

Python's own readers take more (`date.fromisoformat` reads 20260221 and 2026-W08-5,
`datetime.fromisoformat` any character between the day and the time): a typo must be an
error naming the option, not a run for another day.
"""

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

import typer

from arrears.domain.day_range import DAY_TEXT, FIRST_DAY, INSTANT_TEXT, LAST_DAY

T = TypeVar("T")


def parse_day(text: str, option: str) -> date:
    """A YYYY-MM-DD date, or ValueError naming the option."""
    day = _read(DAY_TEXT, date.fromisoformat, text, f"{option} {text!r} is not a date (YYYY-MM-DD)")
    _within(day, text, option)
    return day


def parse_instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant with its UTC offset, or ValueError naming the option."""
    example = "e.g. 2026-03-01T09:30:00+08:00"
    not_one = f"{option} {text!r} is not an ISO 8601 instant ({example})"
    instant = _read(INSTANT_TEXT, datetime.fromisoformat, text, not_one)
    if instant.tzinfo is None:
        # An offset written as the rest of the instant is: 20260302T100000+0800 in the basic
        # format (helper-126: it suggested +08:00, which that format does not take).
        offset = "+08:00" if "-" in text else "+0800"
        raise ValueError(
            f"{option} {text!r} has no UTC offset (write e.g. {text}{offset} or {text}Z)"
        )
    _within(instant.date(), text, option)
    return instant


def _read(form: re.Pattern[str], read: Callable[[str], T], text: str, refusal: str) -> T:
    """`text` read, if it has the form and reads (a day that is not: 2026-02-30), else
    ValueError(refusal)."""
    if form.fullmatch(text):
        try:
            return read(text)
        except ValueError:
            pass
    raise ValueError(refusal)


def _within(day: date, text: str, option: str) -> None:
    """Refuse a day outside FIRST_DAY..LAST_DAY, naming the option."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{option} {text!r} is outside {FIRST_DAY}..{LAST_DAY}")


def given_or_left_out(value: str | None) -> str | None:
    """An option's value as given (a typer callback), refused when empty: an empty --db or
    --config would otherwise stand for one left out and reach another database or file."""
    if value is not None and not value.strip():
        raise typer.BadParameter("is empty: give a value, or leave the option out")
    return value

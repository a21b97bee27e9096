"""The accounting days the product takes: any date outside them is a typing mistake, not a loan."""

import re
from datetime import date

# Feeds and the command line agree: a day a feed cannot hold cannot be run or looked at
# either (an `--as-of 2205-11-18` typed for 2025 would run the book ahead for good: every
# later run is refused as moving it back). Well inside Python's dates, so a run counting
# back (contact history) or forward (schedules, holds) from its day stays in range.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
# How a day and an instant are written where text gives one (ISO 8601 / RFC 3339: the day, T
# or a space, hh:mm[:ss[.ffffff]], then the UTC offset if any; an instant in ISO 8601's basic
# format too, 20260302T100000+0800, since the contract's INSTANT is any ISO 8601 with an
# offset: helper-123), in ASCII digits (`\d` takes any script's): none of the other forms
# Python's parsers take too (2026W51, a week's Monday; a day 20260622; "1759285800" as
# seconds, which Pydantic reads).
DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INSTANT_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?"
    r"|[0-9]{8}[Tt][0-9]{4}([0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}([0-9]{2})?)?"
)
# The most days a ladder or guard may count (days past due, days of a stage, a guard's
# window): the whole range above. A number past it is a typing mistake, and one past the
# engines' integers (day numbers are 32-bit) would stop every run instead of matching nothing.
MAX_DAYS = (LAST_DAY - FIRST_DAY).days
# The largest amount (minor units) a ladder's bound may name: 10^15 fen is ten trillion yuan,
# far beyond any loan, and sums of a book's amounts stay well inside 64-bit integers.
MAX_AMOUNT = 10**15

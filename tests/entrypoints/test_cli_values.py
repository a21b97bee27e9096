"""The command line's dates and instants: CONTRACT.md's ISO forms, and nothing else."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from arrears.entrypoints.cli_values import parse_day, parse_instant

BEIJING = timezone(timedelta(hours=8))


def test_a_day_is_yyyy_mm_dd_within_the_range() -> None:
    assert parse_day("2026-02-28", "--as-of") == date(2026, 2, 28)
    assert parse_day("1900-01-01", "--as-of") == date(1900, 1, 1)
    assert parse_day("2199-12-31", "--as-of") == date(2199, 12, 31)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-03-02T10:00:00+08:00", datetime(2026, 3, 2, 10, tzinfo=BEIJING)),
        ("2026-03-02T02:00Z", datetime(2026, 3, 2, 2, tzinfo=UTC)),
        ("2026-03-02 10:00:00.5+0800", datetime(2026, 3, 2, 10, 0, 0, 500_000, tzinfo=BEIJING)),
        ("2026-03-02T10:00:00+08", datetime(2026, 3, 2, 10, tzinfo=BEIJING)),
        ("20260302T100000+0800", datetime(2026, 3, 2, 10, tzinfo=BEIJING)),  # basic format
        ("20260302T0200Z", datetime(2026, 3, 2, 2, tzinfo=UTC)),
    ],
)
def test_an_instant_is_iso_8601_with_its_offset(text: str, instant: datetime) -> None:
    found = parse_instant(text, "--at")
    assert found == instant
    assert found.utcoffset() == instant.utcoffset()


DAYS = [
    ("20260228", "is not a date (YYYY-MM-DD)"),
    ("2026-W09-6", "is not a date"),
    ("2026-059", "is not a date"),
    ("2026-02-30", "is not a date"),
    (" 2026-02-28", "is not a date"),
    ("1899-12-31", "is outside 1900-01-01..2199-12-31"),
    ("2200-01-01", "is outside 1900-01-01..2199-12-31"),
]
INSTANTS = [
    ("2026-03-02X10:00:00+08:00", "is not an ISO 8601 instant"),
    ("2026-03-02+08:00", "is not an ISO 8601 instant"),
    ("2026-03-02", "is not an ISO 8601 instant"),
    ("2026-03-02T25:00:00+08:00", "is not an ISO 8601 instant"),
    ("2026-03-02T10:00:00", "has no UTC offset (write e.g. 2026-03-02T10:00:00+08:00 or"),
    # The offset as the basic format writes it (helper-126: it suggested +08:00, refused).
    ("20260302T100000", "has no UTC offset (write e.g. 20260302T100000+0800 or"),
    ("20260302T100000+08:00", "is not an ISO 8601 instant"),
    ("1899-12-31T10:00:00+08:00", "is outside 1900-01-01..2199-12-31"),
    ("2200-01-01T00:00:00+08:00", "is outside 1900-01-01..2199-12-31"),
]


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [(parse_day, *case) for case in DAYS] + [(parse_instant, *case) for case in INSTANTS],
)
def test_anything_else_is_refused_naming_the_option(
    parse: Callable[[str, str], object], text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"--until {text!r} {message}")):
        parse(text, "--until")

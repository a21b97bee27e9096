"""Cell parsers: exact money, real dates, whole numbers, rates, phone numbers and time zones."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters.feeds import cells
from arrears.adapters.phone_zones import e164
from arrears.domain.errors import DomainError
from arrears.domain.money import format_amount, parse_amount


def parse(parser: cells.CellParser, *texts: str | None) -> list[tuple[object, str | None]]:
    values, errors = parser(pl.Series("c", list(texts), dtype=pl.String))
    return list(zip(values.to_list(), errors.to_list(), strict=True))


@settings(deadline=None)  # Polars' first call warms up slowly on a busy machine
@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_money_reads_every_amount_format_amount_writes(minor: int) -> None:
    assert parse(cells.money(positive=False), format_amount(minor)) == [(minor, None)]


@settings(deadline=None)
@given(st.from_regex(r"-?[0-9]{1,13}(\.[0-9]{0,3})?", fullmatch=True))
def test_money_agrees_with_the_domain_parser(text: str) -> None:
    [(value, error)] = parse(cells.money(positive=False), text)
    try:
        expected: int | None = parse_amount(text)
    except DomainError:
        expected = None
    if expected is None or expected < 0 or text.startswith("-"):
        assert value is None
        assert error is not None
    else:
        assert (value, error) == (expected, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5.00", "-5.00 is negative"),
        ("0.00", "0.00 must be more than 0"),
        ("12.345", "12.345 has more than 2 decimals (money is exact)"),
        ("1,234.56", "'1,234.56' is not an amount (e.g. 1234.56)"),
        ("１２", "'１２' is not an amount (e.g. 1234.56)"),
        ("12345678901234", "12345678901234 is too large"),
    ],
)
def test_money_names_what_is_wrong(text: str, message: str) -> None:
    assert parse(cells.money(positive=True), text) == [(None, message)]


def test_empty_cells_give_neither_value_nor_error() -> None:
    assert parse(cells.money(positive=True), None) == [(None, None)]
    assert parse(cells.iso_date, None) == [(None, None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-28", (date(2026, 2, 28), None)),
        ("2028-02-29", (date(2028, 2, 29), None)),
        ("2026-02-30", (None, "2026-02-30 is not a real calendar date")),
        ("2026-13-01", (None, "2026-13-01 is not a real calendar date")),
        ("2026-1-05", (None, "'2026-1-05' is not a date (YYYY-MM-DD)")),
        ("05/01/2026", (None, "'05/01/2026' is not a date (YYYY-MM-DD)")),
        ("0000-01-01", (None, "0000-01-01 is outside the years 1900-2199")),
    ],
)
def test_dates_are_real_iso_calendar_dates(text: str, expected: tuple[object, object]) -> None:
    assert parse(cells.iso_date, text) == [expected]


def test_sequence_numbers_are_whole_numbers_from_one() -> None:
    assert parse(cells.positive_int, "1", "12", "0", "1.0", "x", "1234567890") == [
        (1, None),
        (12, None),
        (None, "0 must be 1 or more"),
        (None, "'1.0' is not a whole number"),
        (None, "'x' is not a whole number"),
        (None, "1234567890 is too large"),
    ]


def test_scores_are_whole_numbers_of_at_most_nine_digits_either_side_of_zero() -> None:
    assert parse(cells.score, "720", "-40", "0", "7.5", "--1", "1234567890", "-999999999") == [
        (720, None),
        (-40, None),
        (0, None),
        (None, "'7.5' is not a whole number"),
        (None, "'--1' is not a whole number"),
        (None, "1234567890 is too large"),
        (-999_999_999, None),
    ]


def test_rates_are_kept_as_canonical_decimal_text() -> None:
    rate = cells.per_value(cells.exact_rate(32))
    assert parse(rate, "0.180", "0.2399", "10", "1e-1") == [
        ("0.18", None),
        ("0.2399", None),
        ("10", None),
        ("0.1", None),
    ]
    # Longer than the default decimal context's 28 digits: kept exactly, never rounded.
    exact = "0.18000000000000000000000000000009"
    assert parse(cells.per_value(cells.exact_rate(40)), exact + "000") == [(exact, None)]
    [(_, negative), (_, huge), (_, word)] = parse(rate, "-0.1", "10.01", "abc")
    assert negative == "-0.1 is negative"
    assert "outside 0..10" in str(huge)
    assert "is not a rate" in str(word)
    # Other scripts' digits and underscores are Python's readings, not a rate as written.
    for written in ("１.0", "٠.٣", "0.1_8"):
        [(_, wrong)] = parse(rate, written)
        assert str(wrong) == f"'{written}' is not a rate in ASCII digits (a decimal fraction: 0.18)"


def test_phone_numbers_become_e164_with_china_as_the_default_region() -> None:
    phone = cells.per_value(e164)
    assert parse(phone, "138 1234 5678", "+1 415-555-2671", "+44 20 7946 0958") == [
        ("+8613812345678", None),
        ("+14155552671", None),
        ("+442079460958", None),
    ]
    # E.164 has no extension: it would be lost without a word.
    assert parse(phone, "+8613812340007 ext. 55") == [
        (None, "'+8613812340007 ext. 55' has an extension (55); give the number alone")
    ]
    [(value, error)] = parse(phone, "12345")
    assert value is None
    assert error == "'12345' is not a valid phone number (write +country code, e.g. +8613812345678)"


def test_time_zones_must_be_iana_names() -> None:
    zone = cells.per_value(cells.iana_zone)
    assert parse(zone, "Asia/Shanghai", "Mars/Olympus", "../etc") == [
        ("Asia/Shanghai", None),
        (None, "'Mars/Olympus' is not an IANA time zone (e.g. Asia/Shanghai)"),
        (None, "'../etc' is not an IANA time zone (e.g. Asia/Shanghai)"),
    ]
    # Files of the system's zone folder that are not a borrower's zone: the server's own
    # zone, and zones counting leap seconds.
    refused = parse(zone, "localtime", "right/Asia/Shanghai", "posix/Asia/Shanghai", "Factory")
    assert all(value is None for value, _ in refused)
    assert str(refused[0][1]).startswith("'localtime' is not an IANA time zone")


def test_long_values_are_cut_short_in_messages() -> None:
    [(_, error)] = parse(cells.text(3), "x" * 100)
    assert error == f"'{'x' * 40}…' is longer than 3 characters"

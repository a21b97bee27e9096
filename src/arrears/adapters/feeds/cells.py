"""Cell parsers: a column of stripped text in, typed values and an error per bad cell out.

Every parser takes a text Series whose empty cells are null and returns `(values, errors)`:
`errors` holds a message where the cell is bad and null elsewhere; values are null where the
cell is empty or bad. Parsing is columnar (Polars), so a million cells cost milliseconds;
checks that need a library (phone numbers, time zones, exact rates) run once per distinct value.
"""

from collections.abc import Callable, Iterable
from decimal import Context, Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import polars as pl

from arrears.domain.currencies import currency_problem
from arrears.domain.day_range import DAY_TEXT, FIRST_DAY, LAST_DAY
from arrears.domain.money import LARGEST_AMOUNT, MINOR_PER_MAJOR
from arrears.domain.rates import parse_rate

CellParser = Callable[[pl.Series], tuple[pl.Series, pl.Series]]

# Whole years, as the messages name them (arrears.domain.day_range).
FIRST_YEAR, LAST_YEAR = FIRST_DAY.year, LAST_DAY.year
# 13 digits of major units: far beyond any loan, far below the BIGINT limit of minor units
# (money.LARGEST_AMOUNT, which every other way in refuses alike).
MAX_WHOLE_DIGITS = 13
assert MINOR_PER_MAJOR * 10**MAX_WHOLE_DIGITS - 1 == LARGEST_AMOUNT
_SHOWN_CHARS = 40

_RAW = pl.col("raw")
_MONEY = r"^(-?)([0-9]+)(?:\.([0-9]+))?$"
_ISO_DATE = f"^{DAY_TEXT.pattern}$"
_WHOLE = r"^[0-9]+$"


def _shown() -> pl.Expr:
    """The cell as quoted in a message, cut short when long."""
    return (
        pl.when(_RAW.str.len_chars() > _SHOWN_CHARS)
        .then(pl.concat_str(_RAW.str.slice(0, _SHOWN_CHARS), pl.lit("…")))
        .otherwise(_RAW)
    )


def _says(template: str) -> pl.Expr:
    """A message with the cell's text in place of `{}`."""
    return pl.format(template, _shown())


def _evaluate(
    cells: pl.Series, value: pl.Expr, problems: Iterable[tuple[pl.Expr, pl.Expr]]
) -> tuple[pl.Series, pl.Series]:
    """Evaluate a value and the first failing check per cell (null cells give nulls)."""
    checks = list(problems)
    error: pl.Expr = pl.lit(None, dtype=pl.String)
    if checks:
        chain: Any = pl.when(checks[0][0]).then(checks[0][1])
        for condition, message in checks[1:]:
            chain = chain.when(condition).then(message)
        error = chain.otherwise(pl.lit(None, dtype=pl.String))
    out = pl.DataFrame({"raw": cells}).select(error=error, value=value)
    good = out.select(pl.when(pl.col("error").is_null()).then(pl.col("value"))).to_series()
    return good.alias(cells.name), out.get_column("error")


def text(max_length: int) -> CellParser:
    """Free text (names, ids) of at most `max_length` characters, the column's size in the store."""

    def parse(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Parse a column of cells."""
        too_long = _RAW.str.len_chars() > max_length
        return _evaluate(
            cells, _RAW, [(too_long, _says(f"'{{}}' is longer than {max_length} characters"))]
        )

    return parse


def pattern(regex: str, what: str, max_length: int) -> CellParser:
    """Text that must match `regex`; `what` explains the expected form in the message."""

    def parse(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Parse a column of cells."""
        bad = ~_RAW.str.contains(regex) | (_RAW.str.len_chars() > max_length)
        return _evaluate(cells, _RAW, [(bad, _says(f"'{{}}' is not {what}"))])

    return parse


def one_of(allowed: Iterable[str], what: str) -> CellParser:
    """A code from a known set (e.g. product codes from the settings)."""
    known = sorted(allowed)
    listed = ", ".join(known) if known else "none are configured"

    def parse(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Parse a column of cells."""
        unknown = ~_RAW.is_in(pl.Series(known, dtype=pl.String).implode())
        return _evaluate(
            cells, _RAW, [(unknown, _says(f"'{{}}' is not a known {what} ({listed})"))]
        )

    return parse


def money(*, positive: bool) -> CellParser:
    """An amount in major units with at most 2 decimals, to integer minor units (exact)."""

    def parse(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Parse a column of cells."""
        sign, whole, frac = (_RAW.str.extract(_MONEY, group) for group in (1, 2, 3))
        minor = whole.cast(pl.Int64, strict=False) * 100 + frac.fill_null("").str.pad_end(
            2, "0"
        ).cast(pl.Int64, strict=False)
        value = pl.when(sign == "-").then(-minor).otherwise(minor)
        problems = [
            (~_RAW.str.contains(_MONEY), _says("'{}' is not an amount (e.g. 1234.56)")),
            (frac.str.len_chars() > 2, _says("{} has more than 2 decimals (money is exact)")),
            (
                whole.str.strip_chars_start("0").str.len_chars() > MAX_WHOLE_DIGITS,
                _says("{} is too large"),
            ),
            (sign == "-", _says("{} is negative")),
        ]
        if positive:
            problems.append((value == 0, _says("{} must be more than 0")))
        return _evaluate(cells, value, problems)

    return parse


def iso_date(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A calendar date written YYYY-MM-DD."""
    value = _RAW.str.to_date("%Y-%m-%d", strict=False)
    return _evaluate(
        cells,
        value,
        [
            (~_RAW.str.contains(_ISO_DATE), _says("'{}' is not a date (YYYY-MM-DD)")),
            (value.is_null(), _says("{} is not a real calendar date")),
            (
                ~value.dt.year().is_between(FIRST_YEAR, LAST_YEAR),
                _says(f"{{}} is outside the years {FIRST_YEAR}-{LAST_YEAR}"),
            ),
        ],
    )


def positive_int(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A whole number from 1 up (instalment sequence numbers)."""
    value = _RAW.cast(pl.Int64, strict=False)
    return _evaluate(
        cells,
        value.cast(pl.Int32, strict=False),
        [
            (~_RAW.str.contains(_WHOLE), _says("'{}' is not a whole number")),
            (_RAW.str.len_chars() > 9, _says("{} is too large")),
            (value < 1, _says("{} must be 1 or more")),
        ],
    )


def score(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A whole number, maybe negative, of at most nine digits (a lender's collection score)."""
    value = _RAW.cast(pl.Int64, strict=False)
    return _evaluate(
        cells,
        value,
        [
            (~_RAW.str.contains(r"^-?[0-9]+$"), _says("'{}' is not a whole number")),
            (_RAW.str.strip_prefix("-").str.len_chars() > 9, _says("{} is too large")),
        ],
    )


def per_value(convert: Callable[[str], str]) -> CellParser:
    """A check done by a library, once per distinct value; `convert` raises ValueError to refuse."""

    def parse(cells: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Parse a column of cells."""
        distinct = cells.drop_nulls().unique().to_list()
        values: dict[str, str] = {}
        errors: dict[str, str] = {}
        for raw in distinct:
            try:
                values[raw] = convert(raw)
            except ValueError as error:
                errors[raw] = str(error)
        return (
            cells.replace_strict(values, default=None, return_dtype=pl.String),
            cells.replace_strict(errors, default=None, return_dtype=pl.String),
        )

    return parse


def currency_code(raw: str) -> str:
    """A currency a loan may be lent in (domain.currencies: ISO 4217, kept in hundredths)."""
    problem = currency_problem(raw)
    if problem is not None:
        raise ValueError(problem)
    return raw


def iana_zone(raw: str) -> str:
    """An IANA time zone name (Asia/Shanghai)."""
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{raw}' is not an IANA time zone (e.g. Asia/Shanghai)") from None
    if raw not in _iana_names():
        # ZoneInfo also opens any file of the system's zone folders: `localtime` is the
        # server's own zone, `right/...` counts leap seconds. Neither is a borrower's zone.
        raise ValueError(f"'{raw}' is not an IANA time zone name (e.g. Asia/Shanghai)")
    return raw


@cache
def _iana_names() -> frozenset[str]:
    """The IANA zone names, without the system's own files that are not zones."""
    return frozenset(available_timezones() - {"localtime", "Factory", "posixrules"})


def exact_rate(max_length: int) -> Callable[[str], str]:
    """An annual rate as a decimal fraction 0..10, kept as canonical decimal text (0.180: 0.18)."""

    def convert(raw: str) -> str:
        """Check one rate and give its canonical text."""
        if raw.startswith("-"):
            raise ValueError(f"{raw} is negative")
        # Python's decimals read any script's digits and underscores between them (１.0 as 1,
        # 0.1_8 as 0.18): a rate is written as money is, in ASCII (helper-113).
        if not raw.isascii() or "_" in raw:
            raise ValueError(f"'{raw}' is not a rate in ASCII digits (a decimal fraction: 0.18)")
        parse_rate(raw)  # the very parser that reads it back from the store
        # Exact: the default context's 28 digits would round a longer rate, losing it.
        text = format(Decimal(raw).normalize(Context(prec=len(raw) + 1)), "f")
        if len(text) > max_length:
            raise ValueError(f"'{raw}' has more than {max_length} characters")
        return text

    return convert

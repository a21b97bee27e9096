"""Annual rates as exact fractions (no floats): parsing and display."""

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from arrears.domain.errors import DomainError

# A rate above 1000 %/yr is a data error, not a product.
_MAX_RATE = Fraction(10)
# A rate is a fraction of a few decimals: more digits than this, or an exponent putting them
# further out, is no rate. Unbounded, 1E-4000000 was kept as 0 (past the decimals' range) and
# 1E-999999999 would have taken hours to make exact (10^N worked out: helper-122).
_MOST_DIGITS = 64


def parse_rate(text: str) -> Fraction:
    """Parse an annual rate given as a decimal fraction ('0.18' = 18 %/yr), exactly."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise DomainError(f"{text!r} is not a rate (a decimal fraction such as 0.18)") from None
    if not value.is_finite():
        raise DomainError(f"{text!r} is not a finite rate")
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # a finite decimal's
    if len(digits) > _MOST_DIGITS or not -_MOST_DIGITS <= exponent <= _MOST_DIGITS:
        raise DomainError(
            f"{_shown(text)} is not a rate (a decimal fraction such as 0.18, of at most "
            f"{_MOST_DIGITS} digits)"
        )
    rate = Fraction(value)
    if rate < 0 or rate > _MAX_RATE:
        raise DomainError(f"rate {text!r} is outside 0..10 (a decimal fraction: 0.18 = 18 %/yr)")
    return rate


def _shown(text: str) -> str:
    """A rate's text as a message quotes it, cut short when long."""
    return repr(text) if len(text) <= _MOST_DIGITS else repr(text[:_MOST_DIGITS] + "…")


def format_rate(rate: Fraction) -> str:
    """Show a rate as a percentage with up to 4 decimals ('18%', '13.8%')."""
    percent = Decimal(rate.numerator * 100) / Decimal(rate.denominator)
    text = f"{percent.quantize(Decimal('0.0001')):f}".rstrip("0").rstrip(".")
    return f"{text}%"

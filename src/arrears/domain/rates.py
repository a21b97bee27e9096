"""Annual rates as exact fractions (no floats): parsing and display."""

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from arrears.domain.errors import DomainError

# A rate above 1000 %/yr is a data error, not a product.
_MAX_RATE = Fraction(10)


def parse_rate(text: str) -> Fraction:
    """Parse an annual rate given as a decimal fraction ('0.18' = 18 %/yr), exactly."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise DomainError(f"{text!r} is not a rate (a decimal fraction such as 0.18)") from None
    if not value.is_finite():
        raise DomainError(f"{text!r} is not a finite rate")
    rate = Fraction(value)
    if rate < 0 or rate > _MAX_RATE:
        raise DomainError(f"rate {text!r} is outside 0..10 (a decimal fraction: 0.18 = 18 %/yr)")
    return rate


def format_rate(rate: Fraction) -> str:
    """Show a rate as a percentage with up to 4 decimals ('18%', '13.8%')."""
    percent = Decimal(rate.numerator * 100) / Decimal(rate.denominator)
    text = f"{percent.quantize(Decimal('0.0001')):f}".rstrip("0").rstrip(".")
    return f"{text}%"

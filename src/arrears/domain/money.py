"""Money as integer minor units (fen, cents): parsing, formatting and exact rounding."""

import re

from arrears.domain.errors import DomainError

MINOR_PER_MAJOR = 100
_AMOUNT = re.compile(r"^(-?)(\d+)(?:\.(\d{1,2}))?$")


def parse_amount(text: str) -> int:
    """Parse a decimal string in major units ('1234.56') into minor units, exactly."""
    match = _AMOUNT.match(text.strip())
    if match is None:
        raise DomainError(
            f"{text!r} is not an amount (digits with at most 2 decimals, e.g. 1234.56)"
        )
    sign, whole, frac = match.groups()
    minor = int(whole) * MINOR_PER_MAJOR + int((frac or "").ljust(2, "0"))
    return -minor if sign else minor


def format_amount(minor: int) -> str:
    """Format minor units as a decimal string in major units ('12.34')."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), MINOR_PER_MAJOR)
    return f"{sign}{whole}.{frac:02d}"


def div_half_up(numerator: int, denominator: int) -> int:
    """Divide and round half away from zero (the ROUND_HALF_UP of accounting), exactly."""
    if denominator <= 0:
        raise DomainError("denominator must be positive")
    if numerator < 0:
        return -div_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)

"""Money as integer minor units (fen, cents): parsing, formatting and exact rounding."""

import re

from arrears.domain.errors import DomainError

MINOR_PER_MAJOR = 100
# The largest amount anything may name, in minor units: 9,999,999,999,999.99 (13 digits of
# major units, ten trillion yuan less a fen), far beyond any loan; every feed (CSV, Parquet,
# a book folder's Int64 fen), a product's late fee and the domain refuse more. Why it suffices:
# each amount is below 2^50, so a loan's balances, which add up its own amounts (its principal,
# its instalments' interest and fees, its payments, the penalty on at most its principal),
# fit in Int64 (2^63 - 1 ≈ 9.22 × 10^18) until they add up 9,223 of the largest amounts, which
# no loan's schedule or payments come near; a book's sums, over any number of loans, are added
# up wider (batch.ledger.EXACT), never in Int64.
LARGEST_AMOUNT = 10**15 - 1
# ASCII digits only: `\d` takes any script's (١٠٠ or １００ read as 100, helper-89).
_AMOUNT = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]{1,2}))?$")


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

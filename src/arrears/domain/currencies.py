"""Currencies: the ISO 4217 codes a loan may be lent in, to the minor unit."""

import re

from arrears.domain.money import MINOR_PER_MAJOR

# Three capital letters (ISO 4217's alphabetic code). A code outside the published list (CNH,
# the offshore yuan banks quote) is taken as kept in hundredths, as nearly every currency is.
CURRENCY_TEXT = re.compile(r"[A-Z]{3}")
# ISO 4217 list one (published 2026-01-01): every code whose minor unit is not two decimals
# ("N.A." where it has none: metals, funds, the testing code). Amounts are kept in hundredths
# (money.MINOR_PER_MAJOR) and charges rounded to them, so a loan in yen (no minor unit) would
# be charged 0.37 yen a day and a Kuwaiti dinar loan rounded to 10 fils: refused, not guessed.
OTHER_MINOR_UNITS = {
    code: minor
    for minor, codes in (
        ("0", "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
        ("3", "BHD IQD JOD KWD LYD OMR TND"),
        ("4", "CLF UYW"),
        ("N.A.", "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX"),
    )
    for code in codes.split()
}
assert MINOR_PER_MAJOR == 100, "OTHER_MINOR_UNITS lists the codes not kept in hundredths"


def currency_problem(code: str) -> str | None:
    """Why a loan cannot be lent in `code`, or None when it can."""
    if not CURRENCY_TEXT.fullmatch(code):
        return f"{code!r} is not a currency code (e.g. CNY)"
    minor = OTHER_MINOR_UNITS.get(code)
    if minor is None:
        return None
    decimals = "no minor unit" if minor == "N.A." else f"{minor} decimal places"
    return (
        f"{code} has {decimals} in ISO 4217, but amounts are kept to two decimals: only a "
        f"currency of two decimals (CNY, USD, GBP, …) can be lent"
    )

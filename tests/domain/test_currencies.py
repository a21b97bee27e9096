"""Currencies: only those kept in hundredths can be lent; the rest are refused with the reason."""

import pytest

from arrears.domain.currencies import OTHER_MINOR_UNITS, currency_problem


@pytest.mark.parametrize("code", ["CNY", "USD", "GBP", "EUR", "HKD", "CNH"])
def test_a_currency_in_hundredths_or_outside_the_list_can_be_lent(code: str) -> None:
    assert currency_problem(code) is None


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("JPY", "JPY has 0 decimal places in ISO 4217"),
        ("KRW", "KRW has 0 decimal places"),
        ("KWD", "KWD has 3 decimal places"),
        ("CLF", "CLF has 4 decimal places"),
        ("XAU", "XAU has no minor unit in ISO 4217"),
        ("cny", "'cny' is not a currency code (e.g. CNY)"),
        ("CNYY", "'CNYY' is not a currency code"),
    ],
)
def test_a_currency_not_in_hundredths_is_refused_saying_why(code: str, says: str) -> None:
    problem = currency_problem(code)
    assert problem is not None
    assert problem.startswith(says)


def test_the_list_is_iso_4217s_codes_not_in_hundredths() -> None:
    # ISO 4217 list one of 2026-01-01: 17 codes of 0 decimals, 7 of 3, 2 of 4, 13 with none.
    counts = {u: sum(1 for v in OTHER_MINOR_UNITS.values() if v == u) for u in ("0", "3", "4")}
    assert counts == {"0": 17, "3": 7, "4": 2}
    assert len(OTHER_MINOR_UNITS) == 39

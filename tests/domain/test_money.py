"""Money parsing, formatting and rounding."""

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.money import div_half_up, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "minor"),
    [("1234.56", 123456), ("0.5", 50), ("7", 700), ("-12.30", -1230), (" 0.01 ", 1)],
)
def test_amounts_parse_to_exact_minor_units(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text", ["1.234", "1,00", "abc", "", "1e3", "--1", "0x10"])
def test_malformed_amounts_are_refused_with_the_text_named(text: str) -> None:
    with pytest.raises(DomainError, match="not an amount"):
        parse_amount(text)


def test_amounts_format_as_decimal_strings() -> None:
    assert [format_amount(m) for m in (0, 5, 1234, -1230, 100)] == [
        "0.00",
        "0.05",
        "12.34",
        "-12.30",
        "1.00",
    ]


def test_halves_round_up_and_below_half_rounds_down() -> None:
    assert div_half_up(75, 2) == 38  # 37.5
    assert div_half_up(749, 20) == 37  # 37.45
    assert div_half_up(-75, 2) == -38  # half away from zero
    assert div_half_up(0, 7) == 0

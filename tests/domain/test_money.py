"""Money parsing, formatting and rounding."""

from datetime import date

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.loan import Loan, Payment
from arrears.domain.money import LARGEST_AMOUNT, div_half_up, format_amount, parse_amount
from arrears.domain.product import Product
from tests.factories import evaluate, one_instalment_loan


@pytest.mark.parametrize(
    ("text", "minor"),
    [("1234.56", 123456), ("0.5", 50), ("7", 700), ("-12.30", -1230), (" 0.01 ", 1)],
)
def test_amounts_parse_to_exact_minor_units(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


# Digits of other scripts too: Arabic-Indic, full-width, Devanagari (helper-89: 100.00 taken).
@pytest.mark.parametrize(
    "text",
    [
        "1.234",
        "1,00",
        "abc",
        "",
        "1e3",
        "--1",
        "0x10",
        "\u0661\u0660\u0660",
        "\uff11\uff10\uff10.00",
        "1.\u0966\u0966",
    ],
)
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


@pytest.mark.parametrize(
    ("loan", "payments", "message"),
    [
        (one_instalment_loan(principal=LARGEST_AMOUNT + 1), [],
         "loan L1: principal 10000000000000.00 is above 9999999999999.99"),
        (one_instalment_loan(interest=4 * 10**18), [],
         "loan L1: instalment 1 interest_due 40000000000000000.00 is above 9999999999999.99"),
        (one_instalment_loan(fee=LARGEST_AMOUNT + 1), [], "instalment 1 fee_due"),
        (one_instalment_loan(), [Payment("P1", LARGEST_AMOUNT + 1, date(2026, 2, 1))],
         "payment P1 amount 10000000000000.00 is above 9999999999999.99"),
    ],
)  # fmt: skip
def test_the_domain_refuses_an_amount_past_the_largest_a_feed_takes(
    loan: Loan, payments: list[Payment], message: str
) -> None:
    # As the feeds and the book folder refuse it: the engines' Int64 sums of a loan rest on it.
    with pytest.raises(DomainError, match=message):
        evaluate(loan, payments)
    assert evaluate(one_instalment_loan(principal=LARGEST_AMOUNT, interest=LARGEST_AMOUNT))


def test_a_products_late_fee_past_the_largest_amount_is_refused() -> None:
    with pytest.raises(DomainError, match=r"late_fee must be at most 9999999999999\.99"):
        Product("x", late_fee=LARGEST_AMOUNT + 1)
    assert Product("x", late_fee=LARGEST_AMOUNT).late_fee == LARGEST_AMOUNT

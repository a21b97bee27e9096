"""Loan terms as Int64 columns: exact, or refused when Int64 could not hold the arithmetic."""

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import polars as pl
import pytest

from arrears.batch.advance import advance
from arrears.batch.terms_frame import PRICED, priced_print
from arrears.domain.calendar import BusinessCalendar
from arrears.domain.caps import OWN_CAP_RULE, OwnCap
from arrears.domain.errors import DomainError
from arrears.domain.loan import Installment, Loan
from arrears.domain.terms import Terms
from tests.batch.domain_book import book_of
from tests.batch.test_engine_agrees_with_domain import LPR, POLICIES, products

START = date(2025, 9, 1)
CALENDAR = BusinessCalendar(frozenset(), frozenset(), frozenset(range(2025, 2027)))
TERMS = Terms(products(3, 0, ("fees", "penalty", "interest", "principal"), "none", "none"),
              POLICIES, LPR, lambda _j, _a, _b: CALENDAR)  # fmt: skip


def _loan(principal: int, rate: str) -> Loan:
    due = Installment(1, START + timedelta(days=30), principal, 1, 0)
    return Loan("L1", "B", "p", "CNY", principal, Fraction(rate), START, (due,), None)


def test_a_rate_whose_penalty_divisor_would_wrap_is_refused() -> None:
    # 0.1800000000000001 × 1.5 has the denominator 2·10^16: times 360 days and doubled, past
    # 2^63. Wrapped, the kernel posted 1 fen a day on 4.00 where the domain rounds to none.
    with pytest.raises(
        DomainError,
        match=r"rate 0\.1800000000000001 is too precise for the columnar engine's exact Int64 "
        r"arithmetic: use a rate with fewer decimals \(loans L1\)",
    ):
        book_of([(_loan(400, "0.1800000000000001"), [])], TERMS)


def test_a_long_rate_inside_the_headroom_runs_as_the_domain_does() -> None:
    loan = _loan(400_000, "0.180000000001")
    book = book_of([(loan, [])], TERMS)
    day = START + timedelta(days=60)
    after = advance(book, day, TERMS)[0]
    expected = TERMS.evaluate(loan, [], day)
    lines = after.instalments
    owed = lines.select(pl.col("penalty_charged").sum() - pl.col("paid_penalty").sum()).item()
    assert expected.overdue.penalty > 0
    assert owed == expected.overdue.penalty


def test_a_rate_whose_fraction_no_int64_holds_is_refused_by_name() -> None:
    # 19 decimals: 0.1800000000000000001 × 1.5 has a denominator of 2·10^19, past Int64
    # itself: the terms table could not be built to check its headroom (a Polars error).
    with pytest.raises(
        DomainError, match=r"rate 0\.1800000000000000001 is too precise .* \(loans L1\)"
    ):
        book_of([(_loan(400, "0.1800000000000000001"), [])], TERMS)


LICENSED = Terms(products(3, 0, ("fees", "penalty", "interest", "principal"), "licensed", "none"),
                 POLICIES, LPR, lambda _j, _a, _b: CALENDAR)  # fmt: skip


def test_a_principal_past_the_cap_arithmetic_is_named_as_too_large() -> None:
    # 999,999,999,999.00 at 0.18: the cap's allowance (principal-days × 6, of 24 %/yr) would
    # pass Int64. The rate is plain; the message once told to use rates with fewer decimals.
    with pytest.raises(
        DomainError,
        match=r"^column 'principal': principal 999999999999\.00 is too large for the columnar "
        r"engine's exact Int64 arithmetic \(under its cost cap of 24%/yr a principal may be at "
        r"most 70146325865\.36\) \(loans L1\)$",
    ):
        book_of([(_loan(99_999_999_999_900, "0.18"), [])], LICENSED)


def test_a_principal_past_the_total_limits_arithmetic_names_the_limit() -> None:
    # A limit on total charges of 8 decimals has a numerator of 10^9: principal × it passes
    # Int64 past 46,116,860.23, far below what its rate cap (292 %/yr) would bear.
    own = OwnCap(Fraction("2.92"), "own", Fraction("9.99999999"))
    terms = replace(TERMS, products={"p": replace(TERMS.products["p"], own_cap=own)})
    with pytest.raises(
        DomainError,
        match=r"^column 'principal': principal 50000000\.00 is too large for the columnar "
        r"engine's exact Int64 arithmetic \(under its limit on total charges of 1000% of the "
        r"principal lent a principal may be at most 46116860\.23; use a limit with fewer "
        r"decimals\) \(loans L1\)$",
    ):
        book_of([(_loan(5_000_000_000, "0.18"), [])], terms)
    book_of([(_loan(4_000_000_000, "0.18"), [])], terms)  # below it: priced


def test_a_rate_too_precise_for_its_principal_is_named_as_the_rate() -> None:
    # 13 decimals: its penalty's numerator times 50,000.00 would pass Int64, a small loan's not.
    loan = _loan(5_000_000, "0.1234567890123")
    with pytest.raises(
        DomainError,
        match=r"^column 'annual_rate': rate 0\.1234567890123 is too precise for the columnar "
        r"engine's exact Int64 arithmetic on principal 50000\.00 \(at this rate a principal may "
        r"be at most 6216\.05; use a rate with fewer decimals\) \(loans L1\)$",
    ):
        book_of([(loan, [])], LICENSED)
    book_of([(_loan(100_000, "0.1234567890123"), [])], LICENSED)  # 1,000.00 fits


CENTURIES = BusinessCalendar(frozenset(), frozenset(), frozenset(range(1900, 2200)))
LICENSED_ALWAYS = Terms(
    products(3, 0, ("fees", "penalty", "interest", "principal"), "licensed", "none"),
    POLICIES, LPR, lambda _j, _a, _b: CENTURIES,
)  # fmt: skip


def test_the_largest_principal_under_a_cap_runs_three_centuries_as_the_domain_does() -> None:
    # 70,146,325,865.36 lent in 1900, never repaid, run in 2199: its allowance (principal-days
    # × 6) holds. The bound was worked out for 40,000 days and let 192,153,584,101.14 in: run
    # past them, its allowance wrapped negative and the engine cut every fen of penalty the
    # domain posts (a run to 2199 posted 0.00 of penalty, and cut 28,823,037,615.00).
    contract, most = date(1900, 1, 2), 7_014_632_586_536
    loan = Loan("L1", "B", "p", "CNY", most, Fraction("0.18"), contract,
                (Installment(1, contract + timedelta(days=30), most, 1, 0),), None)  # fmt: skip
    for refused in (most + 1, 19_215_358_410_114):
        with pytest.raises(DomainError, match=r"a principal may be at most 70146325865\.36"):
            book_of([(replace(loan, principal=refused, installments=()), [])], LICENSED_ALWAYS)
    day = date(2199, 6, 1)
    after = advance(book_of([(loan, [])], LICENSED_ALWAYS), day, LICENSED_ALWAYS)[0]
    expected = LICENSED_ALWAYS.evaluate(loan, [], day)
    lines = after.instalments
    owed = lines.select(pl.col("penalty_charged").sum() - pl.col("paid_penalty").sum()).item()
    assert expected.overdue.penalty > 10**14  # the cap allows 24 %/yr of it for 299 years
    assert owed == expected.overdue.penalty


def test_the_priced_print_adds_only_an_own_caps_source_and_total_and_a_late_fee_limit() -> None:
    # A store keeps the print beside each loan's state and replays a loan whose print
    # changed: a pack's cap, and an own cap without a total, print as they did before (no
    # whole-book replay on the upgrades); an own cap's source and its limit on total charges
    # are in it, so a reworded source is cited afresh and a changed total replays its loans;
    # so is a limit on late fees, where there is one.
    frame = pl.DataFrame({
        **{name: ["1", "1", "1", "1"] for name in PRICED},
        "cap_rule": ["cn.cap.licensed", OWN_CAP_RULE, OWN_CAP_RULE, "none"],
        "cap_source": ["法发〔2017〕22号", "v2", "CONC 5A", ""],
        "cap_total": [None, None, 500_000, None], "late_fee_total": [None, None, 1500, 1500],
    })  # fmt: skip
    plain = " ".join(["1"] * len(PRICED))
    assert frame.select(priced_print()).to_series().to_list() == [
        plain,
        plain + " v2",
        plain + " CONC 5A total 500000 late 1500",
        plain + " late 1500",
    ]

"""Roll rates loan by loan, between complete month ends only."""

from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.delinquency import BUCKETS
from arrears.domain.flow_rates import (
    Rolls,
    flow_rates,
    is_month_end,
    month_pairs,
    next_month_end,
)


def test_a_rate_is_the_share_of_a_buckets_loans_one_bucket_further_a_month_on() -> None:
    # Of the 4 loans in M1 at the end of January: one rolled to M2, one skipped to M3, one
    # stayed, one was paid up. Two more reached M2 from M3 (a part payment): M2 holds 3 loans
    # at the end of February, and 3 / 4 counts would say 75 %.
    moved: Rolls = {("M1", "M2"): 1, ("M1", "M3"): 1, ("M1", "M1"): 1, ("M1", "M0"): 1,
             ("M3", "M2"): 2, ("M0", "M0"): 90, ("M0", "M1"): 10}  # fmt: skip
    rates = {(r.source, r.target): r.rate for r in flow_rates([(date(2025, 2, 28), moved)])}
    assert rates[("M1", "M2")] == Fraction(1, 4)
    assert rates[("M0", "M1")] == Fraction(10, 100)
    assert rates[("M3", "M4")] == 0  # both left M3, for the better
    assert rates[("M2", "M3")] is None  # nothing was in M2 to roll
    assert {r.month for r in flow_rates([(date(2025, 2, 28), moved)])} == {"2025-02"}


def test_a_loan_that_left_the_book_counts_in_its_bucket_and_rolled_nowhere() -> None:
    moved = {("M6", "M7+"): 1, ("M6", None): 1}
    (rate,) = [r for r in flow_rates([(date(2025, 2, 28), moved)]) if r.source == "M6"]
    assert (rate.target, rate.rate) == ("M7+", Fraction(1, 2))


@given(st.dictionaries(st.tuples(st.sampled_from(BUCKETS), st.sampled_from(BUCKETS)),
                       st.integers(0, 1000)))  # fmt: skip
def test_no_rate_is_above_one(moved: dict[tuple[str, str | None], int]) -> None:
    for rate in flow_rates([(date(2025, 3, 31), moved)]):
        assert rate.rate is None or 0 <= rate.rate <= 1


def test_only_two_consecutive_month_ends_make_a_month() -> None:
    runs = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 4, 30), date(2025, 5, 17),
            date(2025, 5, 31), date(2025, 6, 17)]  # fmt: skip
    # March had no month-end run; May 17 and June 17 are mid-month (June is under way).
    assert month_pairs(runs) == [
        (date(2025, 1, 31), date(2025, 2, 28)),
        (date(2025, 4, 30), date(2025, 5, 31)),
    ]


def test_month_ends() -> None:
    assert is_month_end(date(2024, 2, 29))
    assert not is_month_end(date(2025, 11, 17))
    assert next_month_end(date(2024, 1, 31)) == date(2024, 2, 29)
    assert next_month_end(date(2025, 12, 31)) == date(2026, 1, 31)
    assert next_month_end(date(2025, 8, 31)) == date(2025, 9, 30)

"""Net flow rates from month-end bucket counts."""

from datetime import date
from fractions import Fraction

from arrears.domain.flow_rates import flow_rates, month_ends


def test_the_last_run_of_each_month_counts() -> None:
    runs = [(date(2025, 1, 10), {"M0": 1}), (date(2025, 1, 31), {"M0": 2}),
            (date(2025, 2, 3), {"M0": 3})]  # fmt: skip
    assert month_ends(runs) == [("2025-01", {"M0": 2}), ("2025-02", {"M0": 3})]


def test_a_rate_is_next_months_next_bucket_over_this_months_bucket() -> None:
    runs = [
        (date(2025, 1, 31), {"M0": 100, "M1": 10, "M2": 0}),
        (date(2025, 2, 28), {"M0": 95, "M1": 4, "M2": 5}),
    ]
    rates = {(r.source, r.target): r.rate for r in flow_rates(runs)}
    assert rates[("M0", "M1")] == Fraction(4, 100)
    assert rates[("M1", "M2")] == Fraction(5, 10)
    assert rates[("M2", "M3")] is None  # nothing was in M2 to roll
    assert {r.month for r in flow_rates(runs)} == {"2025-02"}


def test_no_rate_into_the_last_bucket_which_keeps_its_own() -> None:
    runs = [(date(2025, 1, 31), {"M6": 2, "M7+": 5}), (date(2025, 2, 28), {"M7+": 7})]
    assert ("M6", "M7+") not in {(r.source, r.target) for r in flow_rates(runs)}

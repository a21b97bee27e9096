"""The cap allowance: what a capped loan may be charged in all, from its principal-days."""

from arrears.batch.grouped import Ints


def cap_allowance(principal_days: Ints, cap_num: Ints, cap_den: Ints, day_count: Ints) -> Ints:
    """Cap rate × principal-days ÷ day count, floored (only meaningful for a capped loan)."""
    return (principal_days * cap_num) // (cap_den * day_count)

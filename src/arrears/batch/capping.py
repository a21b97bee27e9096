"""The cap allowance: what a capped loan may be charged in all, from its principal-days."""

from typing import TypeVar

from arrears.batch.grouped import Ints

Amount = TypeVar("Amount", int, Ints)  # one loan's (the ledger kernel) or a column of them
# A loan's limit on total charges where it has none (cap_total null): above any charges an
# engine can price (terms_frame.INT64_SAFE), and far from overflowing where it is compared.
UNLIMITED = 1 << 62


def cap_allowance(
    principal_days: Amount, cap_num: Amount, cap_den: Amount, day_count: Amount
) -> Amount:
    """Cap rate × principal-days ÷ day count, floored (only meaningful for a capped loan)."""
    return (principal_days * cap_num) // (cap_den * day_count)

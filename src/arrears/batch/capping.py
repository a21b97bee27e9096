"""Cutting a loan's ordered charge requests to what fits under its cap allowance."""

import numpy as np

from arrears.batch.grouped import Ints, running_before
from arrears.batch.ledger_arrays import Flags, LedgerArrays


def allowance(ledger: LedgerArrays) -> Ints:
    """Each loan's allowance today (cap_allowance of its running principal-days)."""
    return cap_allowance(ledger.principal_days, ledger.cap_num, ledger.cap_den, ledger.day_count)


def cap_allowance(principal_days: Ints, cap_num: Ints, cap_den: Ints, day_count: Ints) -> Ints:
    """Cap rate × principal-days ÷ day count, floored (only meaningful for a capped loan)."""
    return (principal_days * cap_num) // (cap_den * day_count)


def cut_to_fit(loan: Ints, amounts: Ints, room: Ints, capped: Flags) -> Ints:
    """What each request posts: in order, min(amount, what is left of its loan's room).

    Posting requests one by one, each taking min(amount, room left), is the same as
    clip(room − Σ earlier requests, 0, amount): a running sum per loan does it at once.
    The requests must be grouped by loan (`loan`: its position) and in posting order.
    """
    fits = np.clip(room[loan] - running_before(loan, amounts), 0, None)
    return np.where(capped[loan], np.minimum(fits, amounts), amounts)

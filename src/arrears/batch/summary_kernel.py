"""The per-loan sums and least days of ageing.summarise_loans, compiled: one pass over the lines.

As numpy reductions the summary took a dozen passes over every worked line (a mask and a
grouped sum or minimum each, about 5 ms apiece on a bench night's 457,000 lines); this pass
takes them all at once (docs/PERFORMANCE.md). Compiled by numba, typed up front and cached
on disk like the ledger's kernel (ledger_kernel.py). The lines come as the ledger's matrix
(ledger_kernel.LINE_COLUMNS): the one the ledger has just run them in is summed as it stands.
"""

import numba
import numpy as np

from arrears.batch.grouped import Ints
from arrears.batch.ledger_kernel import (
    BEYOND,
    DUE,
    EFF,
    F_CH,
    F_DUE,
    I_CH,
    I_DUE,
    P_DUE,
    PD_F,
    PD_I,
    PD_P,
    PD_PEN,
    PEN_CH,
    PEND_BASE,
    PEND_DAILY,
    PEND_DAYS,
    PENDING,
    RUN_BASE,
    RUN_DAILY,
    RUN_LAST,
)
from arrears.batch.penalty_day import penalty_for_day

NEVER = int(np.iinfo(np.int32).max)  # no such day
# Columns of the result, per loan.
COLUMNS = (
    "oldest",  # least effective due date of a line posted and owing principal or interest
    "open_after",  # least due date after the day of a line still owing anything
    "open_from",  # ... on or after the day
    "due_after",  # least due date after the day
    "crossing",  # least effective due date + 1 of a line owing, not yet past it
    "grace_end",  # least day a quiet line waiting out grace crosses it (its penalty posted)
    "live",  # 1 when a posted line may still accrue or cross grace (ledger_kernel's `live`)
    "loud",  # 1 when a live line may change otherwise than by alike days (its run of
    # penalty days beyond grace, its pending penalty inside grace)
    "open",  # 1 when a line still owes anything
    "clears",  # 1 when a line paid inside grace still counts days of pending penalty (the
    # next day money comes to the loan, ledger_kernel._open clears them)
    "past_principal", "past_interest", "past_fees",  # owed on lines past their effective date
    "penalty", "principal",  # owed on every line
    "daily",  # the penalty each day adds while nothing else changes (the live lines' runs)
)  # fmt: skip
(OLDEST, OPEN_AFTER, OPEN_FROM, DUE_AFTER, CROSSING, GRACE_END, LIVE, LOUD, OPEN, CLEARS,
 PAST_PRINCIPAL, PAST_INTEREST, PAST_FEES, PENALTY, PRINCIPAL,
 DAILY) = range(len(COLUMNS))  # fmt: skip
# Loan columns, by their index in the `rates` matrix given: the penalty rate and its divisor
# (the day count times its denominator, as ledger_kernel._accrue divides by), and the days
# of grace.
PEN_NUM, PEN_DIV, GRACE = range(3)
_penalty_for_day = numba.njit(inline="always")(penalty_for_day)  # the ledger's, compiled in


@numba.njit(
    "void(int64[::1], int64[:, :], int64[:, :], int64, int64[:, :])", cache=True, nogil=True
)
def line_summaries(li: Ints, lines: Ints, rates: Ints, day: int, out: Ints) -> None:
    """Fill `out` (a row per loan, a column per COLUMNS) from the lines (`li`: each line's loan row;
    `lines`: ledger_kernel.LINE_COLUMNS, dates as day numbers, no effective due date: NEVER;
    `rates`: a row per loan) on `day`, the day the ledger last ran them to."""
    out[:, OLDEST:LIVE] = NEVER
    out[:, LIVE:] = 0
    for j in range(li.size):
        i = li[j]
        due, eff = lines[j, DUE], lines[j, EFF]
        posted = due <= day
        principal = lines[j, P_DUE] - lines[j, PD_P]
        # Interest and fees are owed as charged once posted, as scheduled before.
        interest = (lines[j, I_CH] if posted else lines[j, I_DUE]) - lines[j, PD_I]
        fees = (lines[j, F_CH] if posted else lines[j, F_DUE]) - lines[j, PD_F]
        penalty = lines[j, PEN_CH] - lines[j, PD_PEN]
        owes = principal + interest > 0
        is_open = principal + interest + fees + penalty > 0
        owing = principal != 0 or interest != 0 or fees != 0
        if posted and owes:
            out[i, OLDEST] = min(out[i, OLDEST], eff)
        if is_open and due > day:
            out[i, OPEN_AFTER] = min(out[i, OPEN_AFTER], due)
        if is_open and due >= day:
            out[i, OPEN_FROM] = min(out[i, OPEN_FROM], due)
        if due > day:
            out[i, DUE_AFTER] = min(out[i, DUE_AFTER], due)
        if owing and eff >= day and eff != NEVER:
            out[i, CROSSING] = min(out[i, CROSSING], eff + 1)
        if posted and (principal > 0 or (lines[j, BEYOND] == 0 and owes) or lines[j, PENDING] > 0):
            out[i, LIVE] = 1
            accrued: int = _penalty_for_day(principal, rates[i, PEN_NUM], rates[i, PEN_DIV])
            if lines[j, BEYOND] == 1:
                # Quiet: nothing pending, and tonight's penalty (as the ledger works it out)
                # posted whole as a day of its run: each day to come adds the same.
                quiet = principal > 0 and lines[j, PENDING] == 0 and (
                    accrued == 0
                    or (lines[j, RUN_LAST] == day and lines[j, RUN_BASE] == principal
                        and lines[j, RUN_DAILY] == accrued)
                )  # fmt: skip
                if quiet:
                    out[i, DAILY] += accrued
            else:
                # Inside grace and owing, quiet until grace ends (ledger_kernel._open posts
                # the pending penalty and the late fee that day): before its effective date
                # nothing accrues (`crossing` wakes it the day after); after it the pending
                # penalty grows by the same day after day (none, with no principal owing),
                # each day as the days so far (the ledger sets no pending base once they
                # differ). A store resting it carries the days on (book_night.runs_carried).
                quiet = owes and (
                    eff >= day or principal == 0
                    or (lines[j, PEND_BASE] == principal and lines[j, PEND_DAILY] == accrued)
                )  # fmt: skip
                if quiet and eff < day:
                    out[i, GRACE_END] = min(out[i, GRACE_END], eff + rates[i, GRACE] + 1)
            if not quiet:
                out[i, LOUD] = 1
        if is_open:
            out[i, OPEN] = 1
        if posted and lines[j, BEYOND] == 0 and not owes and lines[j, PEND_DAYS] > 0:
            out[i, CLEARS] = 1
        if posted and eff < day:
            out[i, PAST_PRINCIPAL] += principal
            out[i, PAST_INTEREST] += interest
            out[i, PAST_FEES] += fees
        out[i, PENALTY] += penalty
        out[i, PRINCIPAL] += principal

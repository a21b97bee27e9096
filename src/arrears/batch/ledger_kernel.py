"""The ledger's days, compiled: each loan stepped through its days in one pass over its lines.

The rules and their order are the domain's (domain/evaluation.py): contractual postings due
today and grace crossings, cut to fit the cap; credit held, then the day's payments, down the
waterfall; the day's penalty on principal overdue (posted beyond grace, pending inside it, each
posted day joined to its line's run of identical days); the day's closing principal into the
cap allowance. A loan's pauses of the charges clock (domain/pauses.py) stop its penalty and
the days its grace counts; its revisions (domain/revisions.py) re-split what its lines past
due owe into a plan's parts (lines given it beforehand, owing nothing until then) or move
the dates of its lines still owing at the start of their day, and a settlement reached by a
day's payments waives what its lines still owe after that day's waterfall (the loan settled:
from then on nothing falls due or accrues, and money paid is held as credit). Loans are
independent, so each is worked through all of its days before the next (loan-major: its
lines stay in cache, and a run of many days costs one call).
Compiled by numba (cached on disk): the same steps as numpy passes over every worked line took
0.24–0.34 s of a bench night, this pass 0.03–0.09 s (docs/PERFORMANCE.md).

Records come out as integer rows (codes below); `advance` turns them into frames.
"""

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

from arrears.batch.capping import cap_allowance
from arrears.batch.grouped import Ints
from arrears.batch.penalty_day import penalty_for_day
from arrears.domain.late_fees import late_fee_asked

F = TypeVar("F", bound=Callable[..., Any])


# run_days' types: the loan and line matrices in any layout (Polars hands over column-major
# ones, but a matrix of one row is row-major too), the payments and record buffers contiguous.
# Given up front, the kernel is compiled (or loaded from numba's cache on disk) when this
# module is imported, as an extension module would be, not on a night's first call; and
# other types are refused rather than compiled anew.
_SIGNATURE = (
    "UniTuple(int64, 4)(int64[:, :], int64[:, :], int64[::1], int64[::1], int64, int64, "
    "int64[:, ::1], int64[:, ::1], int64[:, ::1], int64[:, ::1], int64, int64[:, ::1], "
    "int64[:, ::1], int64[::1], int64[:, ::1])"
)


def _compiled(function: F) -> F:
    """numba's nopython compilation of run_days, cached on disk, typed as the function."""
    return cast(F, numba.njit(_SIGNATURE, cache=True, nogil=True)(function))


def _inlined(function: F) -> F:
    """A step of the kernel, compiled into its caller (a call per loan-day costs more than
    the step's own work)."""
    return cast(F, numba.njit(inline="always")(function))


NO_DAY = int(np.iinfo(np.int32).min)  # a missing day (ledger_arrays.NO_DAY)
# Charge and cut kinds, in posting order within a line.
INTEREST, FEE, PENALTY, LATE_FEE = range(4)
KINDS = ("interest", "fee", "penalty", "late_fee")
# Allocation sources besides a payment (a payment is its row in the payments given): credit
# held, a cap refund, a settlement's waiver, a plan's re-split.
CREDIT_SOURCE, REFUND_SOURCE, WAIVER_SOURCE, PLAN_SOURCE = -1, -2, -3, -4
# Allocation components: COMPONENTS' positions (fees, penalty, interest, principal), then
# money held as credit.
HELD = 4
# Columns of the record rows.
CHARGE = ("loan", "seq", "kind", "posted_on", "first", "last", "base", "daily", "amount")
CUT = ("loan", "seq", "kind", "day", "amount")
ALLOCATION = ("loan", "source", "seq", "component", "amount", "day")
# Line columns, by their index in the `lines` matrix the kernel works on.
LINE_COLUMNS = (
    "seq", "due_date", "eff_due", "principal_due", "interest_due", "fee_due",
    "interest_charged", "fees_charged", "penalty_charged", "paid_fees", "paid_penalty",
    "paid_interest", "paid_principal", "pending", "pending_days", "pending_base",
    "pending_daily", "pending_first", "run_first", "run_last", "run_base", "run_daily",
    "beyond_grace",
)  # fmt: skip
(SEQ, DUE, EFF, P_DUE, I_DUE, F_DUE, I_CH, F_CH, PEN_CH, PD_F, PD_PEN, PD_I, PD_P, PENDING,
 PEND_DAYS, PEND_BASE, PEND_DAILY, PEND_FIRST, RUN_FIRST, RUN_LAST, RUN_BASE, RUN_DAILY,
 BEYOND) = range(len(LINE_COLUMNS))  # fmt: skip
# Loan columns, by their index in the `loans` matrix.
LOAN_COLUMNS = (
    "state", "charged", "principal_days", "credit", "outstanding", "off_lines", "pen_num",
    "pen_den", "day_count", "grace_days", "late_fee", "late_fee_total", "late_fees_charged",
    "capped", "cap_num", "cap_den", "cap_total", "rank_fees", "rank_penalty", "rank_interest",
    "rank_principal", "line_start", "line_end", "pay_start", "pay_end",
)  # fmt: skip
(STATE, CHARGED, PDAYS, CREDIT, OUTSTANDING, OFF_LINES, PEN_NUM, PEN_DEN, DAY_COUNT, GRACE,
 LATE, LATE_TOTAL, LATE_CHARGED, CAPPED, CAP_NUM, CAP_DEN, CAP_TOTAL, RANK0, _R1, _R2, _R3,
 LINE_START, LINE_END, PAY_START, PAY_END) = range(len(LOAN_COLUMNS))  # fmt: skip
# Totals posted, by index in each loan's row of them: interest, penalty, fees.
TOTAL_INTEREST, TOTAL_PENALTY, TOTAL_FEES = range(3)
# Columns of the pauses given (spans of days the charges clock stands still, in loan order):
# the loan's position, the span's first and last day (an open span: a day beyond any run).
PAUSE_LOAN, PAUSE_FIRST, PAUSE_LAST = range(3)
# Columns of the revisions given (extensions and plans falling due in the run, in loan and day
# order, on a day the plans first): the loan's position, the day, the days its lines owing
# move (a plan: its months), where the new effective due dates of its lines (in their order)
# start in the array of them (a plan: -1), and a plan's number among the loan's (revisions.
# part_seq; an extension: 0).
REV_LOAN, REV_DAY, REV_DAYS, REV_AT, REV_PLAN = range(5)
# Columns of the settlements given (those effective in the run, in loan order): the loan's
# position, its first and last day (effective_on, deadline) and the amount to reach.
SET_LOAN, SET_FIRST, SET_LAST, SET_AMOUNT = range(4)


Count = TypeVar("Count", int, Ints)


def room_needed(lines: Count, payments: Count, days: Count) -> tuple[Count, Count, Count]:
    """Record rows a loan may write at most over `days` days (charges, cuts, allocations):
    per day and line two opening charges and a closed run, two opening cuts and a penalty
    cut, two cap refunds and four payment shares; per source one overlap more and its rest;
    once, four waived parts a line (a settlement reached). A plan's two re-split parts of a
    line take its cap refunds' room: a line past due on the day is not due that day. (Of one
    loan in the kernel, of each loan's column in `advance`.)"""
    sources = days + payments
    return 3 * lines * days, 3 * lines * days, 6 * lines * days + 2 * sources + 4 * lines


_room_needed = _inlined(room_needed)
_cap_allowance = _inlined(cap_allowance)  # the store's formula, compiled in
_penalty_for_day = _inlined(penalty_for_day)
_late_fee_asked = _inlined(late_fee_asked)  # the domain's formula, compiled in


@_inlined
def _stopped(pauses: Ints, ps: int, pe: int, day: int) -> bool:
    """Whether one of a loan's pause spans (rows ps..pe) covers `day`."""
    for p in range(ps, pe):  # noqa: SIM110 — a loop: numba compiles no generator
        if pauses[p, PAUSE_FIRST] <= day <= pauses[p, PAUSE_LAST]:
            return True
    return False


@_inlined
def _days_run(pauses: Ints, ps: int, pe: int, after: int, upto: int) -> int:
    """The days after `after` up to `upto` on which the loan's charges clock ran (its grace
    counts those: domain.evaluation._Walk.grace_days_run)."""
    days = upto - after
    for p in range(ps, pe):
        low = max(pauses[p, PAUSE_FIRST], after + 1)
        high = min(pauses[p, PAUSE_LAST], upto)
        if high >= low:
            days -= high - low + 1
    return days


@_inlined
def _nth_run_day(pauses: Ints, ps: int, pe: int, first: int, n: int) -> int:
    """The n-th day from `first` (itself the first) on which the charges clock ran: the last
    of n pending days, which accrue on every such day."""
    day = first + n - 1
    if ps == pe:
        return day
    day = first - 1
    while n > 0:
        day += 1
        if not _stopped(pauses, ps, pe, day):
            n -= 1
    return day


@_inlined
def _revise(lines: Ints, lo: int, hi: int, day: int, days: int, new_dues: Ints, at: int) -> None:
    """An extension at the start of `day` (domain.evaluation._Walk.revise): each line still
    owing principal or interest is due `days` later (one not yet due falls due then; one
    due keeps the day its interest was posted) and past due from its new effective due date
    (`new_dues[at + j - lo]`); one inside grace waits out grace anew, its pending penalty not
    owed."""
    for j in range(lo, hi):
        posted = lines[j, DUE] < day
        interest = (lines[j, I_CH] if posted else lines[j, I_DUE]) - lines[j, PD_I]
        if lines[j, P_DUE] - lines[j, PD_P] + interest <= 0:
            continue
        if not posted:
            lines[j, DUE] += days
        lines[j, EFF] = new_dues[at + j - lo]
        if lines[j, BEYOND] == 0:
            lines[j, PENDING] = 0
            lines[j, PEND_DAYS] = 0
            lines[j, PEND_FIRST] = NO_DAY
            lines[j, PEND_BASE] = 0
            lines[j, PEND_DAILY] = 0


@_inlined
def _plan(
    i: int, lines: Ints, lo: int, hi: int, day: int, number: int, months: int,
    allocations: Ints, nal: int,
) -> int:  # fmt: skip
    """The loan's `number`-th plan at the start of `day` (domain.evaluation._Walk.plan): the
    unpaid interest and principal of each line past due (effective due date before `day`)
    leave it (PLAN_SOURCE allocations, counted as paid) and are divided into the plan's parts
    (lines numbered -(100 number + k)), each ⌊sum ÷ months⌋, the last the rest."""
    principal = interest = 0
    for j in range(lo, hi):
        if lines[j, EFF] >= day:
            continue
        owed = lines[j, I_CH] - lines[j, PD_I]
        if owed > 0:
            nal = _record(allocations, nal, (i, PLAN_SOURCE, lines[j, SEQ], 2, owed, day))
            lines[j, PD_I] += owed
            interest += owed
        owed = lines[j, P_DUE] - lines[j, PD_P]
        if owed > 0:
            nal = _record(allocations, nal, (i, PLAN_SOURCE, lines[j, SEQ], 3, owed, day))
            lines[j, PD_P] += owed
            principal += owed
    each_p, each_i = principal // months, interest // months
    for j in range(lo, hi):
        seq = lines[j, SEQ]
        if seq >= 0 or -seq // 100 != number:
            continue
        last = -seq % 100 == months
        lines[j, P_DUE] = principal - each_p * (months - 1) if last else each_p
        lines[j, I_DUE] = interest - each_i * (months - 1) if last else each_i
    return nal


@_inlined
def _step(
    i: int, loans: Ints, lines: Ints, lo: int, hi: int, day: int, pay_lo: int, pay_hi: int,
    pay_amount: Ints, charges: Ints, nc: int, cuts: Ints, ncut: int, allocations: Ints,
    nal: int, totals: Ints, flags: Any, dues: Ints, sources: Ints, order: Ints, pauses: Ints,
    ps: int, pe: int, settlements: Ints, ss: int, se: int, counted: Ints,
) -> tuple[int, int, int, bool]:  # fmt: skip
    """One day of one loan: open, payments (a settlement reached by them: its waiver),
    penalty, close (the domain's order); `pauses` rows ps..pe: the loan's spans of days its
    charges clock stands still; `settlements` rows ss..se its settlements (`counted`: what
    was paid towards each so far). Whether a settlement was reached."""
    paying = loans[i, CREDIT] > 0 or pay_hi > pay_lo
    for j in range(lo, hi):
        if lines[j, DUE] == day and lines[j, PD_I] + lines[j, PD_F] > 0:
            paying = True  # the cap may hand back part of what was prepaid
    # The lines that can change today (flags[:, 0]; all of them when money is to be applied).
    for j in range(lo, hi):
        unpaid = lines[j, P_DUE] - lines[j, PD_P]
        past_due = unpaid + lines[j, I_CH] - lines[j, PD_I]
        flags[j - lo, 0] = (
            paying
            or lines[j, DUE] == day
            or (
                lines[j, DUE] < day
                and (
                    unpaid > 0 or (lines[j, BEYOND] == 0 and past_due > 0) or lines[j, PENDING] > 0
                )
            )
        )
    # The day's allowance, at most the loan's limit on total charges (capping.UNLIMITED: none).
    limit = min(
        _cap_allowance(loans[i, PDAYS], loans[i, CAP_NUM], loans[i, CAP_DEN], loans[i, DAY_COUNT]),
        loans[i, CAP_TOTAL],
    )
    nc, ncut = _open(i, loans, lines, lo, hi, flags, day, limit, charges, nc, cuts, ncut, totals,
                     pauses, ps, pe)  # fmt: skip
    nal = _refund(i, loans, lines, lo, hi, flags, day, allocations, nal)
    nal = _pay(i, loans, lines, lo, hi, flags, day, pay_lo, pay_hi, pay_amount, allocations, nal,
               dues, sources, order)  # fmt: skip
    reached = False
    if ss < se and pay_hi > pay_lo:
        reached = _reached(settlements, ss, se, counted, day, pay_amount, pay_lo, pay_hi)
        if reached:
            nal = _waive(i, lines, lo, hi, day, allocations, nal)
    if ps == pe or not _stopped(pauses, ps, pe, day):  # no penalty on a day paused
        nc, ncut = _accrue(i, loans, lines, lo, hi, flags, day, limit, charges, nc, cuts, ncut,
                           totals, ps < pe)  # fmt: skip
    if paying:
        outstanding = loans[i, OFF_LINES]  # the tail's and unscheduled
        for j in range(lo, hi):
            outstanding += lines[j, P_DUE] - lines[j, PD_P]
        loans[i, OUTSTANDING] = outstanding
    loans[i, PDAYS] += loans[i, OUTSTANDING]
    loans[i, STATE] = day
    return nc, ncut, nal, reached


@_inlined
def _reached(
    settlements: Ints, ss: int, se: int, counted: Ints, day: int, pay_amount: Ints,
    pay_lo: int, pay_hi: int,
) -> bool:  # fmt: skip
    """The day's payments counted towards each settlement (rows ss..se) whose days include
    it and not yet reached (domain.evaluation._Walk.settle); whether one is reached."""
    paid = 0
    for p in range(pay_lo, pay_hi):
        paid += pay_amount[p]
    reached = False
    for r in range(ss, se):
        amount = settlements[r, SET_AMOUNT]
        if settlements[r, SET_FIRST] <= day <= settlements[r, SET_LAST] and counted[r] < amount:
            counted[r] += paid
            if counted[r] >= amount:
                reached = True
    return reached


@_inlined
def _waive(i: int, lines: Ints, lo: int, hi: int, day: int, allocations: Ints, nal: int) -> int:
    """A settlement's waiver after the day's waterfall (domain.evaluation._Walk.waive):
    everything each line still owes is released, recorded as WAIVER_SOURCE allocations and
    counted as paid; a line not yet due as if its schedule were posted (it owes nothing
    either side of its due date, which it never reaches: the loan is settled); pending
    penalty, never posted, is not owed."""
    for j in range(lo, hi):
        if lines[j, DUE] > day:
            lines[j, I_CH], lines[j, F_CH] = lines[j, I_DUE], lines[j, F_DUE]
        for c in range(4):
            if c == 0:
                owed = lines[j, F_CH] - lines[j, PD_F]
            elif c == 1:
                owed = lines[j, PEN_CH] - lines[j, PD_PEN]
            elif c == 2:
                owed = lines[j, I_CH] - lines[j, PD_I]
            else:
                owed = lines[j, P_DUE] - lines[j, PD_P]
            if owed > 0:
                nal = _record(allocations, nal, (i, WAIVER_SOURCE, lines[j, SEQ], c, owed, day))
                lines[j, (PD_F, PD_PEN, PD_I, PD_P)[c]] += owed
        lines[j, PENDING] = 0
        lines[j, PEND_DAYS] = 0
        lines[j, PEND_FIRST] = NO_DAY
        lines[j, PEND_BASE] = 0
        lines[j, PEND_DAILY] = 0
    return nal


@_inlined
def _rest_settled(
    i: int, loans: Ints, day: int, pay_lo: int, pay_hi: int, pay_amount: Ints,
    allocations: Ints, nal: int,
) -> int:  # fmt: skip
    """A day of a loan settled before it: nothing falls due or accrues; the day's payments
    are held as credit."""
    for p in range(pay_lo, pay_hi):
        nal = _record(allocations, nal, (i, p, 0, HELD, pay_amount[p], day))
        loans[i, CREDIT] += pay_amount[p]
    loans[i, PDAYS] += loans[i, OUTSTANDING]
    loans[i, STATE] = day
    return nal


@_inlined
def _record(buffer: Ints, n: int, values: tuple[int, ...]) -> int:
    """Write a record (CHARGE, CUT or ALLOCATION fields in order) at row n; the next row."""
    for field in range(len(values)):
        buffer[n, field] = values[field]
    return n + 1


@_inlined
def _open(
    i: int, loans: Ints, lines: Ints, lo: int, hi: int, flags: Any, day: int, limit: int,
    charges: Ints, nc: int, cuts: Ints, ncut: int, totals: Ints, pauses: Ints, ps: int, pe: int,
) -> tuple[int, int]:  # fmt: skip
    """Contractual postings due today, then grace crossings (retro penalty, late fee; crossing
    lines flagged in flags[:, 1]), each cut to fit the cap in that order; then pending
    penalty cleared where it was posted or is no longer owed. A line's grace counts the days
    its charges clock ran (pauses rows ps..pe)."""
    room = limit - loans[i, CHARGED]
    asked = 0  # requested so far: a request posts min(amount, room left after those)
    posted_total = 0
    for j in range(lo, hi):
        past_due = lines[j, P_DUE] - lines[j, PD_P] + lines[j, I_CH] - lines[j, PD_I]
        flags[j - lo, 1] = (
            flags[j - lo, 0] and lines[j, DUE] < day and lines[j, BEYOND] == 0 and past_due > 0
            and day - lines[j, EFF] > loans[i, GRACE]
            and (ps == pe or _days_run(pauses, ps, pe, lines[j, EFF], day) > loans[i, GRACE])
        )  # fmt: skip
    for phase in range(2):
        for j in range(lo, hi):
            if not flags[j - lo, 0]:
                continue
            if (phase == 0 and lines[j, DUE] != day) or (phase == 1 and not flags[j - lo, 1]):
                continue
            for kind in (INTEREST, FEE) if phase == 0 else (PENALTY, LATE_FEE):
                if phase == 0 and lines[j, SEQ] < 0:
                    # A plan's part: its interest was charged when its instalment fell due.
                    if kind == INTEREST:
                        lines[j, I_CH] = lines[j, I_DUE]
                    else:
                        lines[j, F_CH] = lines[j, F_DUE]
                    continue
                if kind == INTEREST:
                    amount = lines[j, I_DUE]
                elif kind == FEE:
                    amount = lines[j, F_DUE]
                elif kind == PENALTY:
                    amount = lines[j, PENDING]
                else:  # at most what the limit on late fees leaves
                    amount = _late_fee_asked(loans[i, LATE], loans[i, LATE_TOTAL],
                                             loans[i, LATE_CHARGED])  # fmt: skip
                posted = min(max(room - asked, 0), amount) if loans[i, CAPPED] else amount
                asked += amount
                posted_total += posted
                if amount > posted:
                    ncut = _record(cuts, ncut, (i, lines[j, SEQ], kind, day, amount - posted))
                if posted > 0 and kind == PENALTY:
                    # The pending days posted at once: base and daily kept when all were alike.
                    uniform = lines[j, PEND_BASE] >= 0 and posted == amount
                    first = lines[j, PEND_FIRST]
                    base = lines[j, PEND_BASE] if uniform else 0
                    daily = lines[j, PEND_DAILY] if uniform else 0
                    last = _nth_run_day(pauses, ps, pe, first, lines[j, PEND_DAYS])
                    nc = _record(charges, nc, (i, lines[j, SEQ], PENALTY, day, first, last, base,
                                 daily, posted))  # fmt: skip
                elif posted > 0:
                    nc = _record(
                        charges, nc, (i, lines[j, SEQ], kind, day, day, day, 0, posted, posted)
                    )
                if kind == INTEREST:
                    lines[j, I_CH] = posted
                    totals[TOTAL_INTEREST] += posted
                elif kind == FEE:
                    lines[j, F_CH] = posted
                    totals[TOTAL_FEES] += posted
                elif kind == PENALTY:
                    lines[j, PEN_CH] += posted
                    totals[TOTAL_PENALTY] += posted
                else:
                    lines[j, F_CH] += posted
                    loans[i, LATE_CHARGED] += posted
                    totals[TOTAL_FEES] += posted
    loans[i, CHARGED] += posted_total
    for j in range(lo, hi):
        if not flags[j - lo, 0]:
            continue
        crossing = flags[j - lo, 1]
        if crossing:
            lines[j, BEYOND] = 1
        past_due = lines[j, P_DUE] - lines[j, PD_P] + lines[j, I_CH] - lines[j, PD_I]
        settled = lines[j, DUE] < day and lines[j, BEYOND] == 0 and past_due == 0
        if crossing or settled:  # posted now, or never owed (paid inside grace)
            lines[j, PENDING] = 0
            lines[j, PEND_DAYS] = 0
            lines[j, PEND_FIRST] = NO_DAY
    return nc, ncut


@_inlined
def _refund(
    i: int, loans: Ints, lines: Ints, lo: int, hi: int, flags: Any, day: int,
    allocations: Ints, nal: int,
) -> int:  # fmt: skip
    """Interest or fees charged today below what was prepaid go back to the borrower as credit
    (the interest refunds first, then the fees')."""
    for component, charged, paid in ((2, I_CH, PD_I), (0, F_CH, PD_F)):
        for j in range(lo, hi):
            if not flags[j - lo, 0] or lines[j, DUE] != day:
                continue
            extra = max(lines[j, paid] - lines[j, charged], 0)
            if extra > 0:
                nal = _record(allocations, nal, (i, REFUND_SOURCE, lines[j, SEQ], component,
                                  -extra, day))  # fmt: skip
                lines[j, paid] -= extra
                loans[i, CREDIT] += extra
    return nal


@_inlined
def _pay(
    i: int, loans: Ints, lines: Ints, lo: int, hi: int, flags: Any, day: int, pay_lo: int,
    pay_hi: int, pay_amount: Ints, allocations: Ints, nal: int, dues: Ints, sources: Ints,
    order: Ints,
) -> int:  # fmt: skip
    """Credit held, then the day's payments in id order, each down the waterfall: lines
    oldest due first, components in the product's order. Money and dues are laid end to end
    (`sources`: amount, id, left; `dues`: line, component, owed); what a source pays a due
    is where their stretches overlap: the same as paying source by source, greedily."""
    count = 0
    if loans[i, CREDIT] > 0:
        sources[0, 0], sources[0, 1] = loans[i, CREDIT], CREDIT_SOURCE
        count = 1
    for p in range(pay_lo, pay_hi):
        sources[count, 0], sources[count, 1] = pay_amount[p], p
        count += 1
    if count == 0:
        return nal
    # The components in the product's order: a stable sort of their ranks.
    for c in range(4):
        order[c] = c
    for a in range(1, 4):
        b = a
        while b > 0 and loans[i, RANK0 + order[b - 1]] > loans[i, RANK0 + order[b]]:
            order[b - 1], order[b] = order[b], order[b - 1]
            b -= 1
    n = 0
    for j in range(lo, hi):
        if not flags[j - lo, 0]:
            continue
        posted = lines[j, DUE] <= day
        for c in order:
            if c == 0:
                owed = (lines[j, F_CH] if posted else lines[j, F_DUE]) - lines[j, PD_F]
            elif c == 1:
                owed = lines[j, PEN_CH] - lines[j, PD_PEN]
            elif c == 2:
                owed = (lines[j, I_CH] if posted else lines[j, I_DUE]) - lines[j, PD_I]
            else:
                owed = lines[j, P_DUE] - lines[j, PD_P]
            dues[n, 0], dues[n, 1], dues[n, 2] = j, c, owed
            n += 1
    s_end = 0
    for s in range(count):
        amount = sources[s, 0]
        s_end += amount
        left = amount
        d_end = 0
        for d in range(n):
            owed = dues[d, 2]
            d_end += owed
            paid = min(s_end, d_end) - max(s_end - amount, d_end - owed)
            if paid > 0:
                j, c = dues[d, 0], dues[d, 1]
                nal = _record(allocations, nal, (i, sources[s, 1], lines[j, SEQ], c, paid,
                                  day))  # fmt: skip
                left -= paid
                lines[j, (PD_F, PD_PEN, PD_I, PD_P)[c]] += paid
        sources[s, 2] = left
    credit = 0
    for s in range(count):
        left = sources[s, 2]
        credit += left
        if left > 0 and sources[s, 1] != CREDIT_SOURCE:
            nal = _record(allocations, nal, (i, sources[s, 1], 0, HELD, left, day))
    loans[i, CREDIT] = credit
    return nal


@_inlined
def _accrue(
    i: int, loans: Ints, lines: Ints, lo: int, hi: int, flags: Any, day: int, limit: int,
    charges: Ints, nc: int, cuts: Ints, ncut: int, totals: Ints, paused: bool,
) -> tuple[int, int]:  # fmt: skip
    """The day's penalty on principal overdue at its end: posted beyond grace (cut to fit the
    cap, joined to the line's run of identical days or starting one), pending inside it
    (`paused`: the loan has days its charges clock stood still, which may part its pending
    days: they are then no longer alike)."""
    room = limit - loans[i, CHARGED]
    asked = 0
    posted_total = 0
    den = loans[i, PEN_DEN] * loans[i, DAY_COUNT]
    for j in range(lo, hi):
        if not flags[j - lo, 0]:
            continue
        unpaid = lines[j, P_DUE] - lines[j, PD_P]
        if not (lines[j, DUE] <= day and lines[j, EFF] < day and unpaid > 0):
            continue
        accrued = _penalty_for_day(unpaid, loans[i, PEN_NUM], den)
        if lines[j, BEYOND] == 0:
            if lines[j, PEND_DAYS] == 0:
                lines[j, PEND_BASE], lines[j, PEND_DAILY], lines[j, PEND_FIRST] = (
                    unpaid,
                    accrued,
                    day,
                )
            elif (
                lines[j, PEND_BASE] != unpaid
                or lines[j, PEND_DAILY] != accrued
                or (paused and lines[j, PEND_FIRST] + lines[j, PEND_DAYS] != day)
            ):
                lines[j, PEND_BASE] = -1  # the waiting days are no longer alike (or together)
            lines[j, PENDING] += accrued
            lines[j, PEND_DAYS] += 1
            continue
        posted = min(max(room - asked, 0), accrued) if loans[i, CAPPED] else accrued
        asked += accrued
        if accrued > posted:
            ncut = _record(cuts, ncut, (i, lines[j, SEQ], PENALTY, day, accrued - posted))
        if posted == 0:
            continue
        same = (
            lines[j, RUN_LAST] == day - 1
            and lines[j, RUN_BASE] == unpaid
            and lines[j, RUN_DAILY] == posted
        )
        if not same:
            if lines[j, RUN_FIRST] != NO_DAY:  # the run this day does not continue is closed
                first, last, daily = lines[j, RUN_FIRST], lines[j, RUN_LAST], lines[j, RUN_DAILY]
                nc = _record(charges, nc, (i, lines[j, SEQ], PENALTY, first, first, last,
                             lines[j, RUN_BASE], daily, daily * (last - first + 1)))  # fmt: skip
            lines[j, RUN_FIRST], lines[j, RUN_BASE], lines[j, RUN_DAILY] = day, unpaid, posted
        lines[j, RUN_LAST] = day
        lines[j, PEN_CH] += posted
        posted_total += posted
    loans[i, CHARGED] += posted_total
    totals[TOTAL_PENALTY] += posted_total
    return nc, ncut


@_compiled
def run_days(
    loans: Ints,
    lines: Ints,
    pay_day: Ints,
    pay_amount: Ints,
    last: int,
    first_loan: int,
    charges: Ints,
    cuts: Ints,
    allocations: Ints,
    totals: Ints,
    count_from: int,
    pauses: Ints,
    revisions: Ints,
    new_dues: Ints,
    settlements: Ints,
) -> tuple[int, int, int, int]:
    """Step loans first_loan, first_loan + 1, … from the day after their state to `last`,
    writing records into the given buffers until one loan might not fit; `totals` add up
    what is posted on the days after `count_from` (a rebuilt loan's earlier days are not the
    run's), each loan in its own row (its currency is the store's to know); `pauses`: the
    spans of days the loans' charges clocks stand still (PAUSE_LOAN, PAUSE_FIRST, PAUSE_LAST;
    in loan order); `revisions` (REV_*) the extensions and plans falling due, `new_dues` the
    extensions' lines' new effective due dates; `settlements` (SET_*) those effective in the
    run (their loans worked from the contract date). Returns the next loan to step
    (len(loans): all done) and how many rows of each buffer were written."""
    nc = ncut = nal = 0
    # Scratch rows reused by every loan-day (no allocation per loan): the day's flags per
    # line, the dues of the waterfall, the money sources and the components' order.
    widest = 1
    most_paid = 0
    for n in range(loans.shape[0]):
        widest = max(widest, loans[n, LINE_END] - loans[n, LINE_START])
        most_paid = max(most_paid, loans[n, PAY_END] - loans[n, PAY_START])
    flags = np.empty((widest, 2), dtype=np.bool_)
    dues = np.empty((4 * widest, 3), dtype=np.int64)
    sources = np.empty((most_paid + 1, 3), dtype=np.int64)
    order = np.empty(4, dtype=np.int64)
    earlier = np.zeros(totals.shape[1], dtype=np.int64)  # posted up to count_from: not counted
    counted = np.zeros(settlements.shape[0], dtype=np.int64)  # paid towards each settlement
    i = first_loan
    pe = 0  # the loan's pauses are rows ps..pe (most loans have none: an empty range)
    while pe < pauses.shape[0] and pauses[pe, PAUSE_LOAN] < i:
        pe += 1
    re = 0  # the loan's revisions are rows rs..re (most loans have none)
    while re < revisions.shape[0] and revisions[re, REV_LOAN] < i:
        re += 1
    se = 0  # the loan's settlements are rows ss..se (most loans have none)
    while se < settlements.shape[0] and settlements[se, SET_LOAN] < i:
        se += 1
    while i < loans.shape[0]:
        ps = pe
        while pe < pauses.shape[0] and pauses[pe, PAUSE_LOAN] == i:
            pe += 1
        rs = re
        while re < revisions.shape[0] and revisions[re, REV_LOAN] == i:
            re += 1
        ss = se
        while se < settlements.shape[0] and settlements[se, SET_LOAN] == i:
            se += 1
        lo, hi = loans[i, LINE_START], loans[i, LINE_END]
        days = max(last - loans[i, STATE], 0)
        payments = loans[i, PAY_END] - loans[i, PAY_START]
        need_c, need_cut, need_al = _room_needed(hi - lo, payments, days)
        if (
            nc + need_c > charges.shape[0]
            or ncut + need_cut > cuts.shape[0]
            or nal + need_al > allocations.shape[0]
        ):
            if nc == 0 and ncut == 0 and nal == 0:
                raise ValueError("record buffers too small for one loan")
            break
        pay = loans[i, PAY_START]
        settled = False
        for day in range(loans[i, STATE] + 1, last + 1):
            while pay < loans[i, PAY_END] and pay_day[pay] < day:
                pay += 1  # dated on a day the loan had already been run for: not applied
            pay_lo = pay
            while pay < loans[i, PAY_END] and pay_day[pay] == day:
                pay += 1
            if settled:
                nal = _rest_settled(i, loans, day, pay_lo, pay, pay_amount, allocations, nal)
                continue
            while rs < re and revisions[rs, REV_DAY] == day:
                if revisions[rs, REV_PLAN] > 0:
                    nal = _plan(i, lines, lo, hi, day, revisions[rs, REV_PLAN],
                                revisions[rs, REV_DAYS], allocations, nal)  # fmt: skip
                else:
                    _revise(lines, lo, hi, day, revisions[rs, REV_DAYS], new_dues,
                            revisions[rs, REV_AT])  # fmt: skip
                rs += 1
            tally = totals[i] if day > count_from else earlier
            nc, ncut, nal, settled = _step(
                i, loans, lines, lo, hi, day, pay_lo, pay, pay_amount, charges, nc, cuts, ncut,
                allocations, nal, tally, flags, dues, sources, order, pauses, ps, pe,
                settlements, ss, se, counted,
            )  # fmt: skip
        i += 1
    return i, nc, ncut, nal

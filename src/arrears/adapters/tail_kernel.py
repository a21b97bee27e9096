"""Which of a worked loan's tail lines a night leaves in place, compiled: one pass per loan.

book_night._trim_tails decides, for each loan whose lines not yet due were read, which of them
nothing tonight can change (what it leaves in place, and what those add up to). As numpy
passes that took some twenty arrays over every line read (0.05 s on a bench night's 370,000
lines warm, 0.1 s in a fresh process, most of it memory first touched); this pass reads each
line once. Compiled by numba, typed up front and cached on disk like the ledger's kernel
(batch/ledger_kernel.py).
"""

import numba
import numpy as np

from arrears.batch.grouped import Ints

NEVER = int(np.iinfo(np.int32).max)  # no such day
# Columns of the line matrix given (a row per line, dates as day numbers, flags as 0/1).
LINE_COLUMNS = (
    "due_date", "principal_due", "paid_principal", "interest_due", "paid_interest", "fee_due",
    "paid_fees", "penalty_charged", "paid_penalty", "pending", "beyond_grace",
)  # fmt: skip
(DUE, P_DUE, PD_P, I_DUE, PD_I, F_DUE, PD_F, PEN, PD_PEN, PENDING,
 BEYOND) = range(len(LINE_COLUMNS))  # fmt: skip
# Columns of the loan matrix given (a row per loan).
LOAN_COLUMNS = (
    "trimmable",  # 1: its tail was read and may be left in place
    "day",  # the day the loan was brought to before tonight
    "money",  # what the ledger may apply tonight (credit and payments)
    "seg_rows",  # how many of its lines come before its tail
    "late_fee",  # charged on a line crossing grace (0: none)
    "room",  # what its cap still allows it to be charged
    "capped",  # 1: a cap applies
)
TRIMMABLE, DAY, MONEY, SEG_ROWS, LATE_FEE, ROOM, CAPPED = range(len(LOAN_COLUMNS))
# Columns of the result, per loan: of the lines left in place, how many, and what they add up
# to as line_segments.totals_of counts a tail (the principal and penalty they owe, whether any
# owes anything and the least due date of those); and the least due date after today of all
# its lines (what its tail is read again on).
RESULT = ("left", "principal", "penalty", "open", "next_due", "first_due")
LEFT, PRINCIPAL, PENALTY, OPEN, NEXT_DUE, FIRST_DUE = range(len(RESULT))


@numba.njit(inline="always")
def _no_refund(lines: Ints, start: int, end: int, loan: Ints, today: int) -> bool:
    """Whether no interest or fee the loan paid ahead can come back as credit tonight: the
    cap hands it back when it cuts the charge of a line paid ahead as that line falls due
    (ledger_kernel._open). Not for a loan with no such line, nor for one stepped over today
    only whose opening charges today (at most: the interest and fees falling due, and the
    pending penalty and late fee of every line that may cross grace) fit under its cap."""
    ahead = False
    asked = 0
    for j in range(start, end):
        due = lines[j, DUE]
        if lines[j, PD_I] + lines[j, PD_F] > 0 and loan[DAY] < due <= today:
            ahead = True
        if due == today:
            asked += lines[j, I_DUE] + lines[j, F_DUE]
        if due < today and lines[j, BEYOND] == 0:
            asked += lines[j, PENDING] + loan[LATE_FEE]
    if not ahead:
        return True
    # An uncapped loan fits whatever its allowance.
    fits: bool = loan[CAPPED] == 0 or asked <= loan[ROOM]
    return today - loan[DAY] == 1 and fits


@numba.njit(
    "void(int64[::1], int64[:, :], int64[:, :], int64, boolean[::1], int64[:, ::1])",
    cache=True, nogil=True,
)  # fmt: skip
def trim_tails(owner: Ints, lines: Ints, loans: Ints, today: int, later: np.ndarray,
               out: Ints) -> None:  # fmt: skip
    """Mark in `later` the lines left in place and fill `out` (a row per loan, RESULT).
    `owner`: each line's loan row, each loan's lines together and in due order, its head's
    before its tail's. A loan's tail lines are left in place when it is trimmable, no interest
    or fee paid ahead can come back as credit tonight (book_night._trim_tails), the line falls
    due after today and its money cannot reach it."""
    out[:, LEFT:FIRST_DUE] = 0
    out[:, NEXT_DUE] = NEVER
    out[:, FIRST_DUE] = NEVER
    later[:] = False
    n = owner.size
    start = 0
    while start < n:
        i = owner[start]
        end = start
        while end < n and owner[end] == i:
            end += 1
        if loans[i, TRIMMABLE] and _no_refund(lines, start, end, loans[i], today):
            owed_before = 0  # the least the loan's earlier lines can come to owe
            for j in range(start, end):
                due = lines[j, DUE]
                principal = lines[j, P_DUE] - lines[j, PD_P]
                # What a line not yet due owes (line_segments.OWED_AHEAD).
                owed = (principal + lines[j, I_DUE] - lines[j, PD_I] + lines[j, F_DUE]
                        - lines[j, PD_F] + lines[j, PEN] - lines[j, PD_PEN])  # fmt: skip
                if (j - start >= loans[i, SEG_ROWS] and due > today
                        and owed_before >= loans[i, MONEY]):  # fmt: skip
                    later[j] = True
                    out[i, LEFT] += 1
                    out[i, PRINCIPAL] += principal
                    out[i, PENALTY] += lines[j, PEN] - lines[j, PD_PEN]
                    if owed > 0:
                        out[i, OPEN] = 1
                        out[i, NEXT_DUE] = min(out[i, NEXT_DUE], due)
                # A line fallen due by tonight at its principal alone (no cap cuts it), one
                # due later at all it owes (nothing changes before it falls due).
                owed_before += max(principal if due <= today else owed, 0)
        for j in range(start, end):
            if lines[j, DUE] > today:
                out[i, FIRST_DUE] = min(out[i, FIRST_DUE], lines[j, DUE])
        start = end

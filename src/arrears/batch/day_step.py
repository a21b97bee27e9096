"""One day of the ledger, for every loan whose state is at the day before (named steps).

The order is the domain's (domain/evaluation.py): contractual postings, grace crossings,
payments, the day's penalty, the day's closing principal into the cap allowance. Each step
works on the lines that can change today (`mine`, row positions in loan and due order) and
updates the ledger's columns in place.
"""

import numpy as np
import polars as pl

from arrears.batch.capping import allowance, cut_to_fit
from arrears.batch.grouped import Ints, sums_by_key
from arrears.batch.ledger import Postings
from arrears.batch.ledger_arrays import NO_DAY, Flags, LedgerArrays
from arrears.batch.payments import DayPayments, paying_loans, take_payments
from arrears.batch.records import charge_records, cut_records

# Opening requests, in posting order within a line: interest, fee; then retro penalty, late fee.
_KINDS = pl.Series(["interest", "fee", "penalty", "late_fee"], dtype=pl.String)
_INTEREST, _FEE, _RETRO, _LATE_FEE = range(4)


def step_day(ledger: LedgerArrays, day: int, today: DayPayments, out: Postings) -> None:
    """Advance the loans whose state is at `day − 1` by one day (`day`: a day number).

    Only the lines that can change today are worked: those falling due, those still owing or
    waiting out grace, and every line of a loan with money to apply (the waterfall may reach
    any of them). Loans carry their outstanding principal, so the cap allowance grows without
    touching the rest.
    """
    active = ledger.state == day - 1
    if not active.any():
        return
    out.advanced = True
    out.days += 1
    paying = paying_loans(ledger, today, day) & active
    r = ledger.rows
    unpaid = r["principal_due"] - r["paid_principal"]
    past_due = unpaid + r["interest_charged"] - r["paid_interest"]
    live = (r["due_date"] == day) | (
        (r["due_date"] < day)
        & ((unpaid > 0) | (~ledger.beyond_grace & (past_due > 0)) | (r["pending"] > 0))
    )
    mine = np.flatnonzero((live & active[ledger.li]) | paying[ledger.li])
    limit = allowance(ledger)
    open_day(ledger, mine, limit, day, out)
    take_payments(ledger, mine, active, today, day, out)
    accrue_penalty(ledger, mine, limit, day, out)
    close_day(ledger, mine, active, paying, day)


def open_day(ledger: LedgerArrays, mine: Ints, limit: Ints, day: int, out: Postings) -> None:
    """Contractual postings due today, then grace crossings, each cut to fit the cap."""
    r, li = ledger.rows, ledger.li[mine]
    due, beyond = r["due_date"][mine], ledger.beyond_grace[mine]
    past_due = (r["principal_due"] - r["paid_principal"] + r["interest_charged"]
                - r["paid_interest"])[mine]  # fmt: skip
    due_today = due == day
    crossing = (
        (due < day) & ~beyond & (past_due > 0)
        & ((day - r["eff_due"][mine]) > ledger.grace_days[li])
    )  # fmt: skip
    on_due, crossed = np.flatnonzero(due_today), np.flatnonzero(crossing)
    line = np.concatenate([on_due, on_due, crossed, crossed])
    kind = np.repeat(np.arange(4), [on_due.size, on_due.size, crossed.size, crossed.size])
    amount = np.concatenate([
        r["interest_due"][mine[on_due]], r["fee_due"][mine[on_due]],
        r["pending"][mine[crossed]], ledger.late_fee[li[crossed]],
    ])  # fmt: skip
    phase = (kind >= _RETRO).astype(np.int64)
    order = np.lexsort((kind, line, phase, li[line]))
    line, kind, amount = line[order], kind[order], amount[order]
    loan = li[line]
    posted = cut_to_fit(loan, amount, limit - ledger.charged, ledger.capped)
    _record_opening(ledger, mine[line], loan, kind, amount, posted, day, out)
    got = np.zeros((4, mine.size), dtype=np.int64)
    got[kind, line] = posted
    rows = mine
    r["interest_charged"][rows] = np.where(due_today, got[_INTEREST], r["interest_charged"][rows])
    r["fees_charged"][rows] = (
        np.where(due_today, got[_FEE], r["fees_charged"][rows]) + got[_LATE_FEE]
    )
    r["penalty_charged"][rows] += got[_RETRO]
    ledger.beyond_grace[rows] = beyond | crossing
    _clear_pending(ledger, rows, crossing, day)
    _refund_cut_prepayments(ledger, rows, due_today, day, out)
    ledger.charged += sums_by_key(loan, posted, ledger.charged.size)


def _record_opening(
    ledger: LedgerArrays,
    rows: Ints,
    loan: Ints,
    kind: Ints,
    amount: Ints,
    posted: Ints,
    day: int,
    out: Postings,
) -> None:
    """Charge records and cap cuts of the opening postings, and the run's totals."""
    r = ledger.rows
    cut = np.flatnonzero(amount > posted)
    out.add("cuts", cut_records(ledger, loan[cut], r["seq"][rows[cut]], _KINDS.gather(kind[cut]),
                                day, (amount - posted)[cut]))  # fmt: skip
    plain = np.flatnonzero((posted > 0) & (kind != _RETRO))
    out.add("charges", charge_records(
        ledger, loan[plain], r["seq"][rows[plain]], _KINDS.gather(kind[plain]), day, day, day,
        np.zeros(plain.size, np.int64), posted[plain], posted[plain],
    ))  # fmt: skip
    # Pending days posted at once: one record; base and daily kept when every day was alike.
    retro = np.flatnonzero((posted > 0) & (kind == _RETRO))
    at = rows[retro]
    uniform = (r["pending_base"][at] >= 0) & (posted[retro] == amount[retro])
    first = r["pending_first"][at]
    out.add("charges", charge_records(
        ledger, loan[retro], r["seq"][at], "penalty", day, first,
        first + r["pending_days"][at] - 1, np.where(uniform, r["pending_base"][at], 0),
        np.where(uniform, r["pending_daily"][at], 0), posted[retro],
    ))  # fmt: skip
    for k, total in ((_INTEREST, "interest"), (_RETRO, "penalty")):
        out.count(total, int(posted[kind == k].sum()))
    out.count("fees", int(posted[(kind == _FEE) | (kind == _LATE_FEE)].sum()))


def _clear_pending(ledger: LedgerArrays, rows: Ints, crossing: Flags, day: int) -> None:
    """Crossed lines' pending penalty is now posted; lines paid inside grace never owe it."""
    r = ledger.rows
    past_due = (r["principal_due"] - r["paid_principal"] + r["interest_charged"]
                - r["paid_interest"])[rows]  # fmt: skip
    settled = (r["due_date"][rows] < day) & ~ledger.beyond_grace[rows] & (past_due == 0)
    done = rows[crossing | settled]
    r["pending"][done] = 0
    r["pending_days"][done] = 0
    r["pending_first"][done] = NO_DAY


def _refund_cut_prepayments(
    ledger: LedgerArrays, rows: Ints, due_today: Flags, day: int, out: Postings
) -> None:
    """Interest or fees cut below what was prepaid go back to the borrower as credit."""
    from arrears.batch.records import allocation_records

    r = ledger.rows
    at = rows[due_today]
    extra = {
        "interest": np.clip(r["paid_interest"][at] - r["interest_charged"][at], 0, None),
        "fees": np.clip(r["paid_fees"][at] - r["fees_charged"][at], 0, None),
    }
    for component, values in extra.items():
        some = np.flatnonzero(values > 0)
        out.add("allocations", allocation_records(
            ledger, ledger.li[at[some]], "cap_refund", r["seq"][at[some]], component,
            -values[some], day,
        ))  # fmt: skip
    r["paid_interest"][at] -= extra["interest"]
    r["paid_fees"][at] -= extra["fees"]
    ledger.credit += sums_by_key(ledger.li[at], extra["interest"] + extra["fees"],
                                 ledger.credit.size)  # fmt: skip


def accrue_penalty(ledger: LedgerArrays, mine: Ints, limit: Ints, day: int, out: Postings) -> None:
    """The day's penalty on principal overdue at its end: posted beyond grace, pending inside."""
    r, li = ledger.rows, ledger.li[mine]
    unpaid = (r["principal_due"] - r["paid_principal"])[mine]
    accruing = (r["due_date"][mine] <= day) & (r["eff_due"][mine] < day) & (unpaid > 0)
    # Half up to the fen, exactly: floor((2·base·num + den·dc) / (2·den·dc)).
    den = ledger.pen_den[li] * ledger.day_count[li]
    accrued = np.where(accruing, (2 * unpaid * ledger.pen_num[li] + den) // (2 * den), 0)
    base = np.where(accruing, unpaid, 0)
    beyond = ledger.beyond_grace[mine]
    asked = np.flatnonzero(accruing & beyond)
    loan = li[asked]
    posted_asked = cut_to_fit(loan, accrued[asked], limit - ledger.charged, ledger.capped)
    cut = np.flatnonzero(accrued[asked] > posted_asked)
    out.add("cuts", cut_records(ledger, loan[cut], r["seq"][mine[asked[cut]]], "penalty", day,
                                (accrued[asked] - posted_asked)[cut]))  # fmt: skip
    posted = np.zeros(mine.size, dtype=np.int64)
    posted[asked] = posted_asked
    _extend_runs(ledger, mine, base, posted, day, out)
    _add_pending(ledger, mine, accruing & ~beyond, base, accrued, day)
    r["penalty_charged"][mine] += posted
    out.count("penalty", int(posted_asked.sum()))
    ledger.charged += sums_by_key(loan, posted_asked, ledger.charged.size)


def _extend_runs(
    ledger: LedgerArrays, rows: Ints, base: Ints, posted: Ints, day: int, out: Postings
) -> None:
    """Join today's posted penalty to its line's open run of identical days, or start a run."""
    r = ledger.rows
    posts = posted > 0
    same = (
        (r["run_last"][rows] == day - 1)
        & (r["run_base"][rows] == base)
        & (r["run_daily"][rows] == posted)
    )
    starts = posts & ~same
    closing = rows[starts & (r["run_first"][rows] != NO_DAY)]
    out.add("charges", run_records(ledger, closing))
    began = rows[starts]
    r["run_first"][began] = day
    r["run_base"][began] = base[starts]
    r["run_daily"][began] = posted[starts]
    r["run_last"][rows[posts]] = day


def run_records(ledger: LedgerArrays, rows: Ints) -> pl.DataFrame:
    """Charge records of the lines' daily penalty runs (each day posted on itself)."""
    r = ledger.rows
    first, last = r["run_first"][rows], r["run_last"][rows]
    return charge_records(
        ledger, ledger.li[rows], r["seq"][rows], "penalty", first, first, last,
        r["run_base"][rows], r["run_daily"][rows], r["run_daily"][rows] * (last - first + 1),
    )  # fmt: skip


def _add_pending(
    ledger: LedgerArrays, rows: Ints, pending: Flags, base: Ints, accrued: Ints, day: int
) -> None:
    """Inside grace the day's penalty waits; note whether the waiting days stay alike."""
    r = ledger.rows
    first = pending & (r["pending_days"][rows] == 0)
    alike = (r["pending_base"][rows] == base) & (r["pending_daily"][rows] == accrued)
    r["pending_base"][rows] = np.where(
        first, base, np.where(pending & ~alike, -1, r["pending_base"][rows])
    )
    r["pending_daily"][rows] = np.where(first, accrued, r["pending_daily"][rows])
    r["pending"][rows] += np.where(pending, accrued, 0)
    r["pending_first"][rows] = np.where(first, day, r["pending_first"][rows])
    r["pending_days"][rows] += pending.astype(np.int64)


def close_day(ledger: LedgerArrays, mine: Ints, active: Flags, paying: Flags, day: int) -> None:
    """The day's closing principal joins the allowance of the days after; the state moves on.

    Only a loan with money today changes its outstanding principal: the sum over its lines
    (all of its lines the store gave are among the lines worked today) and over the lines
    the store left out (no money reaches them: their principal is as it was).
    """
    r = ledger.rows
    lines = mine[paying[ledger.li[mine]]]
    unpaid = r["principal_due"][lines] - r["paid_principal"][lines]
    closing = sums_by_key(ledger.li[lines], unpaid, ledger.outstanding.size)
    closing += ledger.tail_principal
    ledger.outstanding = np.where(paying, closing, ledger.outstanding)
    ledger.principal_days = np.where(
        active, ledger.principal_days + ledger.outstanding, ledger.principal_days
    )
    ledger.state = np.where(active, day, ledger.state)

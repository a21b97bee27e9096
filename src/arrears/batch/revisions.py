"""The book's schedule revisions (approved extensions and settlements) as frames and the
ledger kernel's arrays.

A revision changes a loan's schedule from its day on (domain/revisions.py). The kernel
applies one only to a loan worked from its contract date that night (a store rebuilds a
revised loan: its lines' moved dates are not all kept in its state, nor what was paid
towards a settlement): an extension at the start of its day, for which it needs, for each
line, the effective due date its new due date has; a settlement on each day its payments
count. Most books have none: every function here costs nothing then.
"""

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import polars as pl

from arrears.batch import ledger_kernel as k
from arrears.batch.grouped import Ints
from arrears.batch.ledger_arrays import LedgerArrays, day_number, day_numbers, day_of
from arrears.batch.pauses import positions
from arrears.domain.calendar import effective_due_date
from arrears.domain.errors import DomainError
from arrears.domain.revisions import EXTENSION, KINDS, SETTLEMENT, Revision
from arrears.domain.terms import Terms

# days: an extension's; amount (minor units) and deadline: a settlement's (else null).
REVISION_SCHEMA = pl.Schema({"loan_id": pl.String(), "kind": pl.String(),
                             "effective_on": pl.Date(), "days": pl.Int64(),
                             "amount": pl.Int64(), "deadline": pl.Date()})  # fmt: skip


def revision_frame(revisions: Iterable[tuple[str, Revision]]) -> pl.DataFrame:
    """Loans' revisions as a frame (REVISION_SCHEMA; a term another kind has: null)."""
    return pl.DataFrame(
        [(loan_id, r.kind, r.effective_on, r.days if r.kind == EXTENSION else None,
          r.amount if r.kind == SETTLEMENT else None, r.deadline)
         for loan_id, r in revisions],
        schema=REVISION_SCHEMA, orient="row",
    )  # fmt: skip


def revisions_by_loan(frame: pl.DataFrame) -> dict[str, list[Revision]]:
    """A frame's revisions (REVISION_SCHEMA, checked) as the domain's, by loan."""
    found: dict[str, list[Revision]] = {}
    for row in frame.iter_rows(named=True):
        found.setdefault(row["loan_id"], []).append(Revision(
            row["kind"], row["effective_on"], row.get("days") or 0,
            amount=row.get("amount") or 0, deadline=row.get("deadline"),
        ))  # fmt: skip
    return found


def applied(revisions: pl.DataFrame | None) -> pl.DataFrame | None:
    """The revisions the ledger applies (extensions, settlements), by loan and day; None:
    none."""
    if revisions is None or revisions.height == 0:
        return None
    mine = revisions.filter(pl.col("kind").is_in(KINDS))
    return mine.sort("loan_id", "effective_on") if mine.height else None


def revised_ids(revisions: pl.DataFrame | None) -> pl.DataFrame:
    """The loans (loan_id) with a revision the ledger applies."""
    mine = applied(revisions)
    if mine is None:
        return pl.DataFrame(schema={"loan_id": pl.String})
    return mine.select("loan_id").unique().sort("loan_id")


def revision_arrays(
    revisions: pl.DataFrame | None, ledger: LedgerArrays, terms: Terms, last: int
) -> tuple[Ints, Ints, Ints]:
    """The extensions falling due in the run (after each loan's state, by `last`) as the
    kernel takes them (ledger_kernel.REV_*: loan position, day, days, where its lines' new
    effective due dates start in the second array, a loan's lines in their order), and the
    settlements effective by `last` (ledger_kernel.SET_*)."""
    settlements = _settlement_array(revisions, ledger, last)
    none = (np.zeros((0, 4), dtype=np.int64), np.zeros(0, dtype=np.int64), settlements)
    mine = applied(revisions)
    if mine is None:
        return none
    mine = mine.filter(pl.col("kind") == EXTENSION)
    ids = ledger.loans.get_column("loan_id")
    at = positions(ids, mine.get_column("loan_id"))
    day = day_numbers(mine.get_column("effective_on"), k.NO_DAY)
    days = mine.get_column("days").to_numpy()
    rows: list[tuple[int, int, int, int]] = []
    shifted: list[int] = []
    cumulative: dict[int, int] = {}
    for i, on, moved in zip(at.tolist(), day.tolist(), days.tolist(), strict=True):
        if i < 0:
            continue  # of a loan not worked tonight
        state = int(ledger.loan[i, k.STATE])
        if on <= state or on > last:
            continue  # applied before, or not yet due
        if state >= day_number(ledger.loans.get_column("contract_date")[i]):
            raise DomainError(
                f"loan {ids[i]}: a revision to apply from {day_of(on)} needs the loan worked "
                f"from its contract date (its state is of {day_of(state)})"
            )
        cumulative[i] = cumulative.get(i, 0) + moved
        rows.append((i, on, moved, len(shifted)))
        shifted.extend(_new_dues(ledger, terms, i, cumulative[i]))
    if not rows:
        return none
    return np.array(rows, dtype=np.int64), np.array(shifted, dtype=np.int64), settlements


def _settlement_array(revisions: pl.DataFrame | None, ledger: LedgerArrays, last: int) -> Ints:
    """The settlements effective by `last` of the loans worked, in loan order (SET_*); the
    loan of one must be worked from its contract date (what was paid towards it, and whether
    it was reached, is not kept in its state)."""
    mine = applied(revisions)
    if mine is None or not mine.filter(pl.col("kind") == SETTLEMENT).height:
        return np.zeros((0, 4), dtype=np.int64)
    mine = mine.filter(pl.col("kind") == SETTLEMENT)
    ids = ledger.loans.get_column("loan_id")
    at = positions(ids, mine.get_column("loan_id"))
    first = day_numbers(mine.get_column("effective_on"), k.NO_DAY)
    final = day_numbers(mine.get_column("deadline"), k.NO_DAY)
    amount = mine.get_column("amount").fill_null(0).to_numpy()
    rows: list[tuple[int, int, int, int]] = []
    for i, on, by, paid in zip(at.tolist(), first.tolist(), final.tolist(), amount.tolist(),
                               strict=True):  # fmt: skip
        if i < 0 or on > last:
            continue  # of a loan not worked tonight, or not yet effective
        state = int(ledger.loan[i, k.STATE])
        if state >= day_number(ledger.loans.get_column("contract_date")[i]):
            raise DomainError(
                f"loan {ids[i]}: a settlement effective from {day_of(on)} needs the loan "
                f"worked from its contract date (its state is of {day_of(state)})"
            )
        if by == k.NO_DAY or paid <= 0:
            raise DomainError(f"loan {ids[i]}: a settlement needs an amount and a deadline")
        rows.append((i, on, by, paid))
    if not rows:
        return np.zeros((0, 4), dtype=np.int64)
    return np.array(sorted(rows), dtype=np.int64)


def _new_dues(ledger: LedgerArrays, terms: Terms, i: int, moved: int) -> list[int]:
    """Each line of loan `i`: the effective due date of its due date as given moved by
    `moved` days (what it is past due from once every revision so far moved it)."""
    product = terms.products[str(ledger.loans.get_column("product")[i])]
    lo, hi = int(ledger.loan[i, k.LINE_START]), int(ledger.loan[i, k.LINE_END])
    found = []
    for due in ledger.line[lo:hi, k.DUE].tolist():
        new: date = day_of(due) + timedelta(days=moved)
        calendar = terms.calendar_for(product.jurisdiction, new.year, new.year + 1)
        found.append(day_number(effective_due_date(new, product.holiday_rule, calendar)))
    return found

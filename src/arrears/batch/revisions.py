"""The book's schedule revisions (approved extensions, plans and settlements) as frames and
the ledger kernel's arrays.

A revision changes a loan's schedule from its day on (domain/revisions.py). The kernel
applies one only to a loan worked from its contract date that night (a store rebuilds a
revised loan: its lines' moved dates are not all kept in its state, nor what was paid
towards a settlement): an extension at the start of its day, for which it needs, for each
line, the effective due date its new due date has; a plan at the start of its day, into the
lines of its parts, given the loan beforehand (with_parts); a settlement on each day its
payments count. Most books have none: every function here costs nothing then.
"""

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import polars as pl

from arrears.batch import ledger_kernel as k
from arrears.batch.book import Book, fresh_instalments
from arrears.batch.grouped import Ints
from arrears.batch.ledger_arrays import LedgerArrays, day_number, day_numbers, day_of
from arrears.batch.pauses import positions
from arrears.domain.calendar import effective_due_date
from arrears.domain.errors import DomainError
from arrears.domain.revisions import (
    EXTENSION,
    KINDS,
    PLAN,
    RANK,
    SETTLEMENT,
    Revision,
    months_after,
    part_of,
    part_seq,
)
from arrears.domain.terms import Terms

# days: an extension's; amount (minor units) and deadline: a settlement's; months: a plan's
# (else null).
REVISION_SCHEMA = pl.Schema({"loan_id": pl.String(), "kind": pl.String(),
                             "effective_on": pl.Date(), "days": pl.Int64(),
                             "amount": pl.Int64(), "deadline": pl.Date(),
                             "months": pl.Int64()})  # fmt: skip


def revision_frame(revisions: Iterable[tuple[str, Revision]]) -> pl.DataFrame:
    """Loans' revisions as a frame (REVISION_SCHEMA; a term another kind has: null)."""
    return pl.DataFrame(
        [(loan_id, r.kind, r.effective_on, r.days if r.kind == EXTENSION else None,
          r.amount if r.kind == SETTLEMENT else None, r.deadline,
          r.months if r.kind == PLAN else None)
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
            months=row.get("months") or 0,
        ))  # fmt: skip
    return found


def applied(revisions: pl.DataFrame | None) -> pl.DataFrame | None:
    """The revisions the ledger applies (extensions, plans, settlements), in the order they
    apply (revisions.in_order: by loan and day, on a day the plans first, then as given);
    None: none."""
    if revisions is None or revisions.height == 0:
        return None
    mine = revisions.filter(pl.col("kind").is_in(KINDS))
    if not mine.height:
        return None
    rank = pl.col("kind").replace_strict(RANK, return_dtype=pl.Int64)
    return mine.sort("loan_id", "effective_on", rank, maintain_order=True)


def with_parts(book: Book, last: date) -> Book:
    """The book with the lines of the parts of each plan effective by `last` (revisions.
    part_seq: due A + k months, owing nothing until the plan's day fills them in) given to
    the loans worked from their contract date that do not have them yet (a loan's plans
    numbered in their order); the book itself when there are none."""
    mine = applied(book.revisions)
    if mine is None or not mine.filter(pl.col("kind") == PLAN).height:
        return book
    fresh = book.loans.filter(pl.col("state_date") < pl.col("contract_date")).select("loan_id")
    given = book.instalments.filter(pl.col("seq") < 0).select("loan_id").unique()
    plans = (
        mine.filter(pl.col("kind") == PLAN)
        .with_columns(pl.int_range(1, pl.len() + 1).over("loan_id").alias("number"))
        .filter(pl.col("effective_on") <= last)
        .join(fresh, on="loan_id", how="semi")
        .join(given, on="loan_id", how="anti")
    )
    if not plans.height:
        return book
    parts = pl.DataFrame(
        [{"loan_id": loan_id, "seq": part_seq(number, k), "due_date": months_after(on, k),
          "eff_due": None, "principal_due": 0, "interest_due": 0, "fee_due": 0}
         for loan_id, on, months, number in
         plans.select("loan_id", "effective_on", "months", "number").iter_rows()
         for k in range(1, months + 1)],
        schema={"loan_id": pl.String, "seq": pl.Int64, "due_date": pl.Date,
                "eff_due": pl.Date, "principal_due": pl.Int64, "interest_due": pl.Int64,
                "fee_due": pl.Int64},
    )  # fmt: skip
    planned = pl.col("loan_id").is_in(plans.get_column("loan_id").unique().implode())
    theirs = pl.concat([book.instalments.filter(planned), fresh_instalments(parts)])
    lines = pl.concat([
        book.instalments.filter(~planned), theirs.sort("loan_id", "due_date", "seq"),
    ])  # fmt: skip
    return book.with_frames(instalments=lines)


def revised_ids(revisions: pl.DataFrame | None) -> pl.DataFrame:
    """The loans (loan_id) with a revision the ledger applies."""
    mine = applied(revisions)
    if mine is None:
        return pl.DataFrame(schema={"loan_id": pl.String})
    return mine.select("loan_id").unique().sort("loan_id")


def revision_arrays(
    revisions: pl.DataFrame | None, ledger: LedgerArrays, terms: Terms, last: int
) -> tuple[Ints, Ints, Ints]:
    """The extensions and plans falling due in the run (after each loan's state, by `last`)
    as the kernel takes them (ledger_kernel.REV_*: loan position, day, days or months, where
    an extension's lines' new effective due dates start in the second array, a loan's lines
    in their order, a plan's number), and the settlements effective by `last`
    (ledger_kernel.SET_*)."""
    settlements = _settlement_array(revisions, ledger, last)
    none = (np.zeros((0, 5), dtype=np.int64), np.zeros(0, dtype=np.int64), settlements)
    mine = applied(revisions)
    if mine is None:
        return none
    mine = mine.filter(pl.col("kind").is_in([EXTENSION, PLAN]))
    ids = ledger.loans.get_column("loan_id")
    at = positions(ids, mine.get_column("loan_id"))
    day = day_numbers(mine.get_column("effective_on"), k.NO_DAY)
    kinds = mine.get_column("kind").to_list()
    sizes = mine.select(pl.when(pl.col("kind") == PLAN).then(pl.col("months"))
                        .otherwise(pl.col("days"))).to_series().fill_null(0).to_list()  # fmt: skip
    rows: list[tuple[int, int, int, int, int]] = []
    shifted: list[int] = []
    extended: dict[int, list[tuple[int, int]]] = {}  # each loan's extensions so far: day, days
    plan_days: dict[int, list[int]] = {}  # each loan's plans' days, in their order
    for i, on, kind in zip(at.tolist(), day.tolist(), kinds, strict=True):
        if kind == PLAN:
            plan_days.setdefault(i, []).append(on)
    planned: dict[int, int] = {}  # each loan's plans so far
    for i, on, kind, size in zip(at.tolist(), day.tolist(), kinds, sizes, strict=True):
        if kind == PLAN:
            planned[i] = planned.get(i, 0) + 1
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
        if kind == PLAN:
            rows.append((i, on, size, -1, planned[i]))
            continue
        extended.setdefault(i, []).append((on, size))
        rows.append((i, on, size, len(shifted), 0))
        shifted.extend(_new_dues(ledger, terms, i, extended[i], plan_days.get(i, [])))
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


def _new_dues(
    ledger: LedgerArrays, terms: Terms, i: int, extended: list[tuple[int, int]],
    plan_days: list[int],
) -> list[int]:  # fmt: skip
    """Each line of loan `i`: the effective due date of its due date as given moved by the
    days of its extensions so far (`extended`: day, days), what it is past due from once
    every revision so far moved it; a plan's part only by those from its plan's day on (on
    one day the plans come first)."""
    product = terms.products[str(ledger.loans.get_column("product")[i])]
    lo, hi = int(ledger.loan[i, k.LINE_START]), int(ledger.loan[i, k.LINE_END])
    every = sum(days for _, days in extended)
    found = []
    for due, seq in zip(ledger.line[lo:hi, k.DUE].tolist(), ledger.line[lo:hi, k.SEQ].tolist(),
                        strict=True):  # fmt: skip
        moved = every
        if seq < 0:
            since = plan_days[part_of(seq)[0] - 1]
            moved = sum(days for on, days in extended if on >= since)
        new: date = day_of(due) + timedelta(days=moved)
        calendar = terms.calendar_for(product.jurisdiction, new.year, new.year + 1)
        found.append(day_number(effective_due_date(new, product.holiday_rule, calendar)))
    return found

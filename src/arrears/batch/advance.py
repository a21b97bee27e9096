"""Advance the book day by day to `as_of` (catching up skipped days), gathering the postings."""

from datetime import date

import numpy as np
import polars as pl

from arrears.batch import ledger_kernel as k
from arrears.batch.book import Book, first_day_to_run
from arrears.batch.ledger import POSITION, Postings, exact_total
from arrears.batch.ledger_arrays import Ints, LedgerArrays, day_number
from arrears.batch.pauses import pause_matrix
from arrears.batch.records import allocation_records, charge_records, cut_records
from arrears.batch.revisions import revision_arrays, with_parts
from arrears.domain.pauses import CHARGES
from arrears.domain.product import COMPONENTS
from arrears.domain.revisions import PLAN_SOURCE, WAIVER
from arrears.domain.terms import Terms

# Record rows a call of the kernel may fill before its records are taken out as frames.
_BUFFER_ROWS = 1 << 20
_KINDS = pl.Series(k.KINDS, dtype=pl.String)
_COMPONENTS = pl.Series([*COMPONENTS, "credit"], dtype=pl.String)


def advance(
    book: Book, as_of: date, terms: Terms, counted_after: date | None = None
) -> tuple[Book, Postings]:
    """Run every day each loan has not yet been run for, up to and including `as_of`; the
    totals count what is posted for the days after `counted_after` (None: every day)."""
    out = Postings()
    start = first_day_to_run(book.loans)
    if start is None or start > as_of:
        return book, out
    book = with_parts(book, as_of)  # the lines of plans' parts (a book without any: as is)
    ledger = LedgerArrays.of(book.loans, book.instalments, book.line_loans)
    ledger.fill_effective_due(terms, as_of)
    first_day = ledger.loan[:, k.STATE] + 1  # each loan's first day stepped by this run
    if book.since is not None:  # or brought over by its store (Book.since)
        first_day = np.minimum(first_day, day_number(book.since) + 1)
    ids, pay_day, pay_amount = _payments(ledger, book, start, as_of)
    last = day_number(as_of)
    out.days = last - day_number(start) + 1
    out.advanced = True
    count_from = day_number(counted_after) if counted_after is not None else k.NO_DAY
    pauses = pause_matrix(book.pauses, ledger.loans.get_column("loan_id"), CHARGES)
    revisions, dues, settlements = revision_arrays(book.revisions, ledger, terms, last)
    changes = (pauses, revisions, dues, settlements)
    _run(ledger, ids, pay_day, pay_amount, last, count_from, changes, out)
    # Runs this run extended (or its store, since the last run) are written as they stand;
    # the next run may extend them again.
    run_last, run_first = ledger.column("run_last"), ledger.column("run_first")
    open_runs = np.flatnonzero(run_last >= first_day[ledger.li])
    daily = ledger.column("run_daily")[open_runs]
    first, last_day = run_first[open_runs], run_last[open_runs]
    out.add("charges", charge_records(
        ledger, ledger.li[open_runs], ledger.column("seq")[open_runs], "penalty", first, first,
        last_day, ledger.column("run_base")[open_runs], daily, daily * (last_day - first + 1),
    ))  # fmt: skip
    # A revision moved some due dates, a plan filled its parts: written back (a book without
    # any writes none).
    lines = ledger.instalments_frame(
        with_due_dates=revisions.shape[0] > 0,
        with_amounts=bool((revisions[:, k.REV_PLAN] > 0).any()),
    )
    book = book.with_frames(
        ledger.li, loans=ledger.loans_frame(), instalments=lines, line_matrix=ledger.line
    )
    return book, out


def _payments(
    ledger: LedgerArrays, book: Book, first: date, last: date
) -> tuple[pl.Series, Ints, Ints]:
    """The payments dated first..last of the ledger's loans, in (loan, day, payment id) order:
    their ids, days and amounts; each loan's stretch of them goes into its row."""
    dated = pl.col("paid_on").is_between(first, last)
    if book.payment_loans is not None:  # each payment's loan known (all are the book's)
        frame = book.payments.with_columns(pl.Series("li", book.payment_loans)).filter(dated)
    else:
        loan_ids = ledger.loans.get_column("loan_id")
        frame = book.payments.filter(dated)
        found = loan_ids.search_sorted(frame.get_column("loan_id"), side="left").cast(pl.Int64)
        clipped = found.clip(upper_bound=max(loan_ids.len() - 1, 0))
        known = (
            loan_ids.gather(clipped).to_numpy() == frame.get_column("loan_id").to_numpy()
            if loan_ids.len()
            else np.zeros(frame.height, dtype=np.bool_)
        )
        frame = frame.with_columns(pl.Series("li", found)).filter(pl.Series(known))
    frame = frame.sort("li", "paid_on", "payment_id")
    li = frame.get_column("li").to_numpy()
    loans = np.arange(ledger.loans.height)
    ledger.loan[:, k.PAY_START] = np.searchsorted(li, loans, side="left")
    ledger.loan[:, k.PAY_END] = np.searchsorted(li, loans, side="right")
    # Copies: the kernel takes writable contiguous arrays (Polars lends read-only ones).
    day = np.array(frame.get_column("paid_on").to_physical().cast(pl.Int64), dtype=np.int64)
    amount = np.array(frame.get_column("amount"), dtype=np.int64)
    return frame.get_column("payment_id"), day, amount


def _run(
    ledger: LedgerArrays, ids: pl.Series, pay_day: Ints, pay_amount: Ints, last: int,
    count_from: int, changes: tuple[Ints, Ints, Ints, Ints], out: Postings,
) -> None:  # fmt: skip
    """Step every loan to `last` in the compiled kernel, taking its records out as frames
    whenever its buffers are full (`changes`: ledger_kernel's pauses of the charges clock,
    extensions and their lines' new effective due dates, settlements)."""
    loan = ledger.loan
    # Room for at least the loan that may write the most (a long catch-up of a long loan).
    needs = k.room_needed(
        loan[:, k.LINE_END] - loan[:, k.LINE_START],
        loan[:, k.PAY_END] - loan[:, k.PAY_START],
        np.maximum(last - loan[:, k.STATE], 0),
    )
    rows = [max(_BUFFER_ROWS, int(need.max(initial=0))) for need in needs]
    charges = np.empty((rows[0], len(k.CHARGE)), dtype=np.int64)
    cuts = np.empty((rows[1], len(k.CUT)), dtype=np.int64)
    allocations = np.empty((rows[2], len(k.ALLOCATION)), dtype=np.int64)
    totals = np.zeros((loan.shape[0], 3), dtype=np.int64)
    sources = pl.concat(
        [ids, pl.Series(["credit", "cap_refund", WAIVER, PLAN_SOURCE], dtype=pl.String)]
    )
    at = 0
    while at < loan.shape[0]:
        at, nc, ncut, nal = k.run_days(
            loan, ledger.line, pay_day, pay_amount, last, at,
            charges, cuts, allocations, totals, count_from, *changes,
        )  # fmt: skip
        # Columns copied out: the buffers are written again by the next call.
        c, x, a = (b[:n].T.copy() for b, n in
                   ((charges, nc), (cuts, ncut), (allocations, nal)))  # fmt: skip
        out.add("charges", charge_records(
            ledger, c[0], c[1], _KINDS.gather(c[2]), c[3], c[4], c[5], c[6], c[7], c[8],
        ))  # fmt: skip
        out.add("cuts", cut_records(ledger, x[0], x[1], _KINDS.gather(x[2]), x[3], x[4]))
        # A payment is its row among `ids`; credit (-1), a cap refund (-2), a settlement's
        # waiver (-3) and a plan's re-split (-4) follow them.
        source = np.where(a[1] >= 0, a[1], ids.len() - 1 - a[1])
        out.add("allocations", allocation_records(
            ledger, a[0], sources.gather(source), a[2], _COMPONENTS.gather(a[3]), a[4], a[5],
        ))  # fmt: skip
    kinds = {"interest": k.TOTAL_INTEREST, "penalty": k.TOTAL_PENALTY, "fees": k.TOTAL_FEES}
    for kind, slot in kinds.items():
        out.count(kind, exact_total(totals[:, slot]))
    posting = np.flatnonzero(totals.any(axis=1))
    out.add("posted", pl.DataFrame([
        ledger.loans.get_column("loan_id").gather(posting), pl.Series(POSITION, posting),
        *(pl.Series(kind, totals[posting, slot]) for kind, slot in kinds.items()),
    ]))  # fmt: skip

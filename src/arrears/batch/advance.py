"""Advance the book day by day to `as_of` (catching up skipped days), gathering the postings."""

from datetime import date

import numpy as np

from arrears.batch.book import Book, first_day_to_run
from arrears.batch.day_step import run_records, step_day
from arrears.batch.ledger import Postings
from arrears.batch.ledger_arrays import LedgerArrays, day_number
from arrears.batch.payments import DayPayments
from arrears.domain.terms import Terms


def advance(book: Book, as_of: date, terms: Terms) -> tuple[Book, Postings]:
    """Run every day each loan has not yet been run for, up to and including `as_of`."""
    out = Postings()
    start = first_day_to_run(book.loans)
    if start is None or start > as_of:
        return book, out
    ledger = LedgerArrays.of(book.loans, book.instalments, book.line_loans)
    ledger.fill_effective_due(terms, as_of)
    payments = DayPayments.of(book.payments, book.loans.get_column("loan_id"), start, as_of)
    first_day = ledger.state + 1  # each loan's first day stepped by this run
    for day in range(day_number(start), day_number(as_of) + 1):
        step_day(ledger, day, payments.on(day), out)
    # Runs this run extended are written as they stand; the next run may extend them again.
    open_runs = np.flatnonzero(ledger.rows["run_last"] >= first_day[ledger.li])
    out.add("charges", run_records(ledger, open_runs))
    lines = ledger.instalments_frame()
    return book.with_frames(ledger.li, loans=ledger.loans_frame(), instalments=lines), out

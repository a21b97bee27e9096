"""Advance the book day by day to `as_of` (catching up skipped days), gathering the postings."""

from datetime import date, timedelta

import polars as pl

from arrears.batch.book import Book, first_day_to_run
from arrears.batch.day_step import run_records, step_day
from arrears.batch.ledger import Postings
from arrears.batch.terms_frame import fill_effective_due
from arrears.domain.terms import Terms


def advance(book: Book, as_of: date, terms: Terms) -> tuple[Book, Postings]:
    """Run every day each loan has not yet been run for, up to and including `as_of`."""
    out = Postings()
    start = first_day_to_run(book.loans)
    if start is None or start > as_of:
        return book, out
    filled = fill_effective_due(book.instalments, book.loans, terms, as_of)
    book = book.with_frames(instalments=filled)
    day = start
    while day <= as_of:
        book = step_day(book, day, out)
        day += timedelta(days=1)
    # Runs still open at the end are written as they stand; the next run extends them.
    open_runs = book.instalments.filter(pl.col("run_last") >= start)
    out.add("charges", run_records(open_runs))
    return book, out

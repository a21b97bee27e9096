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
    book = book.with_frames(instalments=filled, loans=_with_outstanding(book.loans, filled))
    day = start
    while day <= as_of:
        book = step_day(book, day, out)
        day += timedelta(days=1)
    book = book.with_frames(loans=book.loans.drop("outstanding"))
    # Runs still open at the end are written as they stand; the next run extends them.
    open_runs = book.instalments.filter(pl.col("run_last") >= start)
    out.add("charges", run_records(open_runs))
    return book, out


def _with_outstanding(loans: pl.DataFrame, instalments: pl.DataFrame) -> pl.DataFrame:
    """Each loan's outstanding principal, carried through the days of the run."""
    owed = instalments.group_by("loan_id").agg(
        (pl.col("principal_due") - pl.col("paid_principal")).sum().alias("outstanding")
    )
    joined = loans.join(owed, on="loan_id", how="left", maintain_order="left")
    return joined.with_columns(pl.col("outstanding").fill_null(0))

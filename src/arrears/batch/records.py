"""Posting records (charges, cap cuts, allocations) as frames, from the ledger's columns.

Each record also keeps its loan's position in the run's book (ledger.POSITION), by which the
tables written are put in loan order without sorting texts."""

import numpy as np
import polars as pl

from arrears.batch.grouped import Ints
from arrears.batch.ledger import ALLOCATION_SCHEMA, CHARGE_SCHEMA, CUT_SCHEMA, POSITION
from arrears.batch.ledger_arrays import NO_DAY, LedgerArrays, dates_of


def _dates(values: Ints | int, size: int) -> pl.Series:
    """Day numbers (or one day number for every row) as dates."""
    array = np.full(size, values, dtype=np.int64) if isinstance(values, int) else values
    return dates_of(array, NO_DAY)


def _kinds(kinds: pl.Series | str, size: int) -> pl.Series:
    """Texts per row, or one text repeated (without a Python list of a million copies)."""
    if isinstance(kinds, pl.Series):
        return kinds
    return pl.Series([kinds], dtype=pl.String).new_from_index(0, size)


def charge_records(
    ledger: LedgerArrays,
    loans: Ints,
    seq: Ints,
    kind: pl.Series | str,
    posted_on: Ints | int,
    first: Ints | int,
    last: Ints | int,
    base: Ints,
    daily: Ints,
    amount: Ints,
) -> pl.DataFrame:
    """Charge records (CHARGE_SCHEMA): one per posting or run of alike daily postings."""
    n = loans.size
    return pl.DataFrame({
        "loan_id": ledger.loan_ids(loans), "seq": seq, "kind": _kinds(kind, n),
        "posted_on": _dates(posted_on, n), "first_day": _dates(first, n),
        "last_day": _dates(last, n), "base": base, "daily": daily, "amount": amount,
        POSITION: loans,
    }).cast(CHARGE_SCHEMA)  # fmt: skip


def cut_records(
    ledger: LedgerArrays,
    loans: Ints,
    seq: Ints,
    kind: pl.Series | str,
    day: Ints | int,
    amount: Ints,
) -> pl.DataFrame:
    """Cap cuts (CUT_SCHEMA): what a charge lost to the cap on a day."""
    n = loans.size
    return pl.DataFrame({
        "loan_id": ledger.loan_ids(loans), "seq": seq, "kind": _kinds(kind, n),
        "day": _dates(day, n), "amount": amount, POSITION: loans,
    }).cast(CUT_SCHEMA)  # fmt: skip


def allocation_records(
    ledger: LedgerArrays,
    loans: Ints,
    payment_ids: pl.Series | str,
    seq: Ints,
    component: pl.Series | str,
    amount: Ints,
    day: Ints | int,
) -> pl.DataFrame:
    """Allocations (ALLOCATION_SCHEMA): what a payment (or credit, or a cap refund) paid."""
    n = loans.size
    return pl.DataFrame({
        "loan_id": ledger.loan_ids(loans), "payment_id": _kinds(payment_ids, n), "seq": seq,
        "component": _kinds(component, n), "amount": amount, "paid_on": _dates(day, n),
        POSITION: loans,
    }).cast(ALLOCATION_SCHEMA)  # fmt: skip

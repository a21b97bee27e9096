"""What an incremental night of a Parquet book reads: who must be worked, and their frames.

A loan is worked tonight when its summary says it may change (`wake_on` is due), when money
for it arrives, or when money arrives dated on or before the last run (then it is rebuilt from
its contract date, as a whole-book run would rebuild it). A worked loan is first brought to
the day before its first event: a resting day adds only its outstanding principal to the cap
allowance. Every other loan rests, and its state follows from its summary.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from arrears.adapters.book_folder import BookFolder
from arrears.adapters.book_tables import INPUTS, typed
from arrears.adapters.line_segments import read_lines
from arrears.adapters.loan_table import STATIC, Positions, positions
from arrears.batch.book import LOAN_SCHEMA, Book, fresh_instalments
from arrears.batch.ledger_arrays import day_number
from arrears.batch.pipeline import stored_schema
from arrears.batch.stages import CASE_SCHEMA

_NEVER = int(np.iinfo(np.int32).max)
_TEXTS = ("product", "cap_rule", "cap_source")


@dataclass(frozen=True)
class Tonight:
    """Tonight's split of the loan table: positions worked, rebuilt, resting."""

    worked: Positions  # brought forward from their stored state and lines
    rebuilt: Positions  # rebuilt from their contract date
    resting: Positions
    first_paid: np.ndarray  # per loan: the first day money arrives for it (_NEVER: none)


def split(table: pl.DataFrame, payments: pl.DataFrame, last: date, as_of: date) -> Tonight:
    """Which loans tonight works; `payments` are those not yet applied (dated after `last`,
    the last run, or arrived since it dated before)."""
    ids = table.get_column("loan_id")
    late = payments.filter(pl.col("paid_on") <= last)
    rebuilt = positions(ids, late.get_column("loan_id").unique())
    rebuilt = np.unique(rebuilt[rebuilt >= 0])
    first = (
        payments.filter(pl.col("paid_on") > last).group_by("loan_id").agg(pl.col("paid_on").min())
    )
    first_paid = np.full(table.height, _NEVER, dtype=np.int64)
    at = positions(ids, first.get_column("loan_id"))
    days = first.get_column("paid_on").to_physical().cast(pl.Int64).to_numpy()
    first_paid[at[at >= 0]] = days[at >= 0]
    wake = _days(table.get_column("wake_on"))
    woken = (wake <= day_number(as_of)) | (first_paid <= day_number(as_of))
    woken[rebuilt] = True
    plain = woken.copy()
    plain[rebuilt] = False
    return Tonight(np.flatnonzero(plain), rebuilt, np.flatnonzero(~woken), first_paid)


def worked_book(
    folder: BookFolder, table: pl.DataFrame, tonight: Tonight, payments: pl.DataFrame,
    as_of: date,
) -> Book:  # fmt: skip
    """The loans to work: each resting one brought to the day before its first event, with
    its stored lines; each rebuilt one from its contract date, with its lines from the input."""
    rows = table[tonight.worked]
    state = _days(rows.get_column("state_date"))
    event = np.minimum.reduce([
        _days(rows.get_column("wake_on")), tonight.first_paid[tonight.worked],
        np.full(rows.height, day_number(as_of)),
    ])  # fmt: skip
    day = np.maximum(state, event - 1)
    extra = rows.get_column("outstanding_principal").to_numpy() * (day - state)
    loans = rows.select(list(LOAN_SCHEMA)).with_columns(
        pl.Series("state_date", day, pl.Int64).cast(pl.Int32).cast(pl.Date),
        pl.col("principal_days") + pl.Series(extra, dtype=pl.Int64),
        *(pl.col(name).cast(pl.String) for name in _TEXTS),
    )
    lines = read_lines(folder.state, rows.select("segment", "seg_row", "seg_rows"))
    if tonight.rebuilt.size:
        fresh, fresh_lines = _rebuild(folder, table[tonight.rebuilt])
        loans = pl.concat([loans, fresh]).sort("loan_id")
        lines = pl.concat([lines, fresh_lines]).sort("loan_id", "due_date", "seq")
        ids = table.get_column("loan_id").gather(tonight.rebuilt).implode()
        every = typed(folder.read_input("payments", INPUTS["payments"]), INPUTS["payments"])
        payments = pl.concat([payments, every.filter(pl.col("loan_id").is_in(ids))])
        payments = payments.unique("payment_id", keep="first", maintain_order=True)
    kept = payments.join(loans.select("loan_id"), on="loan_id", how="semi")
    return Book(loans, lines, kept.filter(pl.col("paid_on") <= as_of))


def _rebuild(folder: BookFolder, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Loans rebuilt from their contract date: fresh state and fresh lines from the input."""
    wanted = rows.get_column("loan_id").implode()
    given = typed(folder.read_input("installments", INPUTS["installments"]), INPUTS["installments"])
    schedule = given.filter(pl.col("loan_id").is_in(wanted))
    lines = fresh_instalments(schedule.with_columns(pl.lit(None, pl.Date).alias("eff_due")))
    loans = rows.select(list(STATIC)).with_columns(
        (pl.col("contract_date") - pl.duration(days=1)).alias("state_date"),
        pl.lit(0, pl.Int64).alias("charged"), pl.lit(0, pl.Int64).alias("principal_days"),
        pl.lit(0, pl.Int64).alias("credit"), *(pl.col(name).cast(pl.String) for name in _TEXTS),
    ).select(list(LOAN_SCHEMA))  # fmt: skip
    return loans, lines


def stored(table: pl.DataFrame, tonight: Tonight) -> pl.DataFrame:
    """Every loan's owner and last summary, the loans worked tonight marked (the ageing step
    replaces theirs and derives the others' states)."""
    schema = stored_schema()
    worked = np.zeros(table.height, dtype=np.bool_)
    worked[tonight.worked] = True
    worked[tonight.rebuilt] = True
    return table.select(
        *(name for name in schema if name != "worked"), pl.Series("worked", worked)
    ).cast(schema)


def stored_cases(table: pl.DataFrame, last: date) -> pl.DataFrame:
    """The cases as the last run left them (loans of a product with a ladder)."""
    cases = table.select("loan_id", "borrower_id", "stage", "entered_on", "reason", "ladder",
                         "arm", pl.lit(last).alias("as_of"))  # fmt: skip
    return cases.filter(pl.col("stage").is_not_null()).cast(CASE_SCHEMA)


def attempts_since(folder: BookFolder, as_of: date, days: int) -> pl.DataFrame:
    """Contact attempts of the last `days` days, oldest first."""
    got = typed(folder.read_input("contact_attempts", INPUTS["contact_attempts"]),
                INPUTS["contact_attempts"])  # fmt: skip
    since = pl.lit(as_of - timedelta(days=days)).cast(pl.Datetime("us", "UTC"))
    return got.filter(pl.col("at") >= since).sort("at", maintain_order=True)


def _days(series: pl.Series) -> np.ndarray:
    """Dates as day numbers (no date: _NEVER)."""
    return series.to_physical().cast(pl.Int64).fill_null(_NEVER).to_numpy()

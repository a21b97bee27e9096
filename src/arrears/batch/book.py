"""The book as columnar state: one frame of loans, one of instalments, one of payments.

Loans carry their terms as integers (rates as numerator/denominator, so every computation
stays exact in Int64) and their running totals; instalments carry their balances. Both are
"as of the end of `state_date`": a run advances them day by day to its `as_of`.
"""

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

LOAN_SCHEMA = pl.Schema(
    {
        "loan_id": pl.String,
        "borrower_id": pl.String,
        "product": pl.String,
        "contract_date": pl.Date,
        "principal": pl.Int64,
        # Principal lent that no instalment schedules (principal less the schedule's): it is
        # never due but stays outstanding, in the cap's allowance too (CONTRACT.md, cap days).
        "unscheduled": pl.Int64,
        # The lender's segment and score of the loan (loans feed, optional): what the ladders'
        # `segments` and `score_min/max` read (null: the loan has none; such a rule does not
        # match it).
        "loan_segment": pl.String,
        "loan_score": pl.Int64,
        # Its ISO 4217 currency (null: the book names none, one currency unnamed): what the
        # run's summary adds up by (two currencies' minor units are never added).
        "currency": pl.String,
        "state_date": pl.Date,
        "pen_num": pl.Int64,
        "pen_den": pl.Int64,
        "cap_num": pl.Int64,  # null: uncapped
        "cap_den": pl.Int64,
        # The most its charges may total under a cap on total charges (a product's own
        # cap_total × principal, floored; null: none).
        "cap_total": pl.Int64,
        "cap_rule": pl.String,
        "cap_source": pl.String,
        "day_count": pl.Int64,
        "grace_days": pl.Int64,
        "late_fee": pl.Int64,
        # The most its late fees may add up to (a product's late_fee_total; null: no limit).
        "late_fee_total": pl.Int64,
        "rank_fees": pl.Int8,  # position of each component in the product's allocation order
        "rank_penalty": pl.Int8,
        "rank_interest": pl.Int8,
        "rank_principal": pl.Int8,
        "charged": pl.Int64,
        "principal_days": pl.Int64,
        "credit": pl.Int64,
        "late_fees_charged": pl.Int64,  # the late fees posted so far (what a limit counts)
    }
)

INSTALMENT_SCHEMA = pl.Schema(
    {
        "loan_id": pl.String,
        "seq": pl.Int64,
        "due_date": pl.Date,
        "eff_due": pl.Date,
        "principal_due": pl.Int64,
        "interest_due": pl.Int64,
        "fee_due": pl.Int64,
        "interest_charged": pl.Int64,
        "fees_charged": pl.Int64,
        "penalty_charged": pl.Int64,
        "paid_fees": pl.Int64,
        "paid_penalty": pl.Int64,
        "paid_interest": pl.Int64,
        "paid_principal": pl.Int64,
        "pending": pl.Int64,  # penalty accrued inside grace, owed only once grace is exceeded
        "pending_first": pl.Date,
        "pending_days": pl.Int64,
        "pending_base": pl.Int64,  # -1 once the pending days stop being uniform
        "pending_daily": pl.Int64,
        "beyond_grace": pl.Boolean,
        "run_first": pl.Date,  # the open run of identical daily penalty postings
        "run_last": pl.Date,
        "run_base": pl.Int64,
        "run_daily": pl.Int64,
    }
)

# A store may leave out a loan's future lines that nothing can touch tonight (its "tail":
# lines not yet due, no money arriving). The loan then carries what they add up to, and the
# ledger and the summaries count them from these columns (absent: every line is given).
TAIL_SCHEMA = pl.Schema(
    {
        "tail_principal": pl.Int64,  # principal still owed on the lines left out
        "tail_penalty": pl.Int64,  # penalty still owed on them
        "tail_open": pl.Boolean,  # whether any of them still owes anything
        "tail_next_due": pl.Date,  # the first due date among those still owing
        # The first due date among them all, or earlier, the first of the lines not yet due
        # worked without them (a prepaid one falling due may hand credit down to them).
        "tail_first_due": pl.Date,
    }
)

PAYMENT_SCHEMA = pl.Schema(
    {
        "payment_id": pl.String,
        "loan_id": pl.String,
        "amount": pl.Int64,
        "paid_on": pl.Date,
    }
)

ZERO_BALANCES = (
    "interest_charged", "fees_charged", "penalty_charged", "paid_fees", "paid_penalty",
    "paid_interest", "paid_principal", "pending",
)  # fmt: skip


@dataclass(frozen=True)
class Book:
    """Loans (in loan_id order), instalments (each loan's lines together and in due order,
    the loans in any order) and payments, as frames."""

    loans: pl.DataFrame
    instalments: pl.DataFrame
    payments: pl.DataFrame
    # Each instalment's loan position, when the ledger has worked it out (it is the same for
    # every step after: looking it up again costs a search over the loan ids).
    line_loans: npt.NDArray[np.int64] | None = field(default=None, compare=False, repr=False)
    # The last run's day, when a store brought resting loans over days since it: a run of
    # penalty days they carried on after it is one of tonight's records (advance.advance).
    since: date | None = None
    # The ledger's matrix of the instalments (ledger_kernel.LINE_COLUMNS), when the ledger has
    # just run them: the summary sums it as it stands (ageing.summarise_loans).
    line_matrix: npt.NDArray[np.int64] | None = field(default=None, compare=False, repr=False)
    # Each payment's loan position, when the store knows it (it found the payments' loans
    # when it read them): the ledger, the run and the store then need no search of the ids.
    payment_loans: npt.NDArray[np.int64] | None = field(default=None, compare=False, repr=False)
    # The spans of days the loans' clocks stand still (batch.pauses.PAUSE_SCHEMA; None: none),
    # of every loan of `loans` that has any.
    pauses: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    # The schedule revisions of its loans (batch.revisions.REVISION_SCHEMA; None: none): a
    # loan with one falling due tonight is worked from its contract date (Book.loans).
    revisions: pl.DataFrame | None = field(default=None, compare=False, repr=False)

    def with_frames(
        self,
        line_loans: npt.NDArray[np.int64] | None = None,
        *,
        loans: pl.DataFrame | None = None,
        instalments: pl.DataFrame | None = None,
        line_matrix: npt.NDArray[np.int64] | None = None,
    ) -> "Book":
        """A copy with some frames replaced (and the lines' loan positions and the ledger's
        matrix of them, when known: a copy without them knows neither; nor does a copy with
        other loans know its payments' loans)."""
        return replace(
            self, line_loans=line_loans, loans=self.loans if loans is None else loans,
            instalments=self.instalments if instalments is None else instalments,
            line_matrix=line_matrix,
            payment_loans=self.payment_loans if loans is None else None,
        )  # fmt: skip


def fresh_instalments(schedule: pl.DataFrame) -> pl.DataFrame:
    """Instalment state before the contract date: nothing charged, nothing paid (a line given
    without fees owes none: fee_due is optional in the feeds)."""
    frame = schedule.with_columns(
        pl.col("fee_due").fill_null(0),
        *(pl.lit(0, pl.Int64).alias(name) for name in ZERO_BALANCES),
        pl.lit(None, pl.Date).alias("pending_first"),
        pl.lit(0, pl.Int64).alias("pending_days"),
        pl.lit(0, pl.Int64).alias("pending_base"),
        pl.lit(0, pl.Int64).alias("pending_daily"),
        pl.lit(False).alias("beyond_grace"),
        pl.lit(None, pl.Date).alias("run_first"),
        pl.lit(None, pl.Date).alias("run_last"),
        pl.lit(0, pl.Int64).alias("run_base"),
        pl.lit(0, pl.Int64).alias("run_daily"),
    )
    return (
        frame.select(list(INSTALMENT_SCHEMA))
        .cast(INSTALMENT_SCHEMA)
        .sort("loan_id", "due_date", "seq")
    )


def fresh_loans(terms: pl.DataFrame, scheduled: pl.DataFrame) -> pl.DataFrame:
    """Loan state before the contract date: the day before it, nothing charged; `scheduled`:
    each loan's principal its instalments schedule (loan_id, due)."""
    if terms.get_column("loan_id").equals(scheduled.get_column("loan_id")):
        due = scheduled.get_column("due")  # both in loan order, as a book is usually written
    else:
        due = terms.select("loan_id").join(scheduled, on="loan_id", how="left",
                                           maintain_order="left").get_column("due")  # fmt: skip
    given = {"loan_segment": ("segment", pl.String), "loan_score": ("score", pl.Int64),
             "currency": ("currency", pl.String)}  # fmt: skip
    frame = terms.with_columns(
        (pl.col("principal") - due.fill_null(0)).clip(lower_bound=0).alias("unscheduled"),
        *(
            pl.col(name).cast(kind).alias(into)
            if name in terms.columns
            else pl.lit(None, kind).alias(into)
            for into, (name, kind) in given.items()
        ),
        (pl.col("contract_date") - pl.duration(days=1)).alias("state_date"),
        pl.lit(0, pl.Int64).alias("charged"),
        pl.lit(0, pl.Int64).alias("principal_days"),
        pl.lit(0, pl.Int64).alias("credit"),
        pl.lit(0, pl.Int64).alias("late_fees_charged"),
    )
    return frame.select(list(LOAN_SCHEMA)).cast(LOAN_SCHEMA).sort("loan_id")


def scheduled_principal(schedule: pl.DataFrame) -> pl.DataFrame:
    """Each loan of a schedule once (loan_id) with the principal its instalments schedule
    (due). A schedule in loan order names each loan in one run of rows: summed run by run
    (0.3 s for ten million rows, against 0.8 s to group them by hashing)."""
    ids = schedule.get_column("loan_id")
    if not ids.is_sorted():
        return schedule.group_by("loan_id").agg(pl.col("principal_due").sum().alias("due"))
    starts = (ids != ids.shift(1)).fill_null(True).arg_true()
    if starts.len() == 0:
        return pl.DataFrame(schema={"loan_id": pl.String, "due": pl.Int64})
    principal = schedule.get_column("principal_due").cast(pl.Int64).to_numpy()
    due = np.add.reduceat(principal, starts.to_numpy())
    return pl.DataFrame({"loan_id": ids.gather(starts), "due": due})


def overlay_state(fresh: pl.DataFrame, stored: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Fresh rows with the stored state laid over them where a row was stored."""
    columns = [c for c in stored.columns if c not in keys]
    joined = fresh.join(stored, on=keys, how="left", suffix="_s", maintain_order="left")
    laid = joined.with_columns(*(pl.coalesce(f"{c}_s", c).alias(c) for c in columns))
    return laid.select(fresh.columns)


def first_day_to_run(loans: pl.DataFrame) -> date | None:
    """The earliest day some loan still has to be run for."""
    value = loans.get_column("state_date").min()
    if value is None:
        return None
    assert isinstance(value, date)
    return date.fromordinal(value.toordinal() + 1)

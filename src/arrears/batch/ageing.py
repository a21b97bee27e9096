"""Each loan's delinquency on `as_of` from its balances: dpd, bucket, stage, overdue parts.

The instalments of a loan are summed up once (`summarise_loans`): the oldest date owing, the
overdue parts, the next due date and the day the loan must next be worked (`wake_on`). A loan
not worked again before that day has the same summary every day until then, so its state on
any such day follows from the summary alone (`states_from_summaries`): a store may leave its
instalments unread.
"""

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from arrears.batch import summary_kernel as k
from arrears.batch.ledger_arrays import day_number, loan_positions
from arrears.domain.stages import PRE_DUE_DAYS

_NEVER = k.NEVER  # no such day
SUMMARY_SCHEMA = pl.Schema({
    "oldest": pl.Date(),  # effective due date of the oldest line owing principal or interest
    "overdue_principal": pl.Int64(), "overdue_interest": pl.Int64(),
    "overdue_penalty": pl.Int64(), "overdue_fees": pl.Int64(),
    "outstanding_principal": pl.Int64(),
    "next_due": pl.Date(),  # the first open line due on or after the summary's day
    "next_due_after": pl.Date(),  # ... due after it (what the days after the summary see)
    "open": pl.Boolean(),  # anything still owed
    "wake_on": pl.Date(),  # the first day the summary may change (null: never by itself)
})  # fmt: skip
# What a state needs of the loan besides its summary.
LOAN_COLUMNS = ("loan_id", "borrower_id", "product", "grace_days", "credit", "charged")


def summarise_loans(
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    as_of: date,
    watch: tuple[int, ...] = (),
    line_loans: np.ndarray | None = None,
) -> pl.DataFrame:
    """One row per loan of `loans`: LOAN_COLUMNS and SUMMARY_SCHEMA on as_of.

    `wake_on` is the first later day on which anything about the loan may change unless money
    arrives: a line falls due, crosses into "past" with something owing, or may still accrue
    or cross grace (then as_of + 1); its days past due grow (then as_of + 1 too); or its next
    due date comes within one of the `watch` days (a stage rule reads whether the days to the
    next due date are within N: that changes on the day N is reached, not on the days after).
    Lines are summed by position in one compiled pass (summary_kernel.py; loans sorted by
    loan_id; `line_loans`: each line's loan position, when known).
    """
    li = loan_positions(loans, instalments, line_loans)
    lines = instalments.select(
        pl.col(name).to_physical().cast(pl.Int64).fill_null(_NEVER) if name == "eff_due"
        else pl.col(name).to_physical().cast(pl.Int64)
        for name in k.LINE_COLUMNS
    ).to_numpy(order="fortran")  # fmt: skip
    day = day_number(as_of)
    n = loans.height
    s = np.empty((n, len(k.COLUMNS)), dtype=np.int64, order="F")  # a column per result
    k.line_summaries(np.ascontiguousarray(li, dtype=np.int64), lines, day, s)
    tail = _tail(loans)
    # The lines left out (the tail) are all due after as_of: they are neither posted nor past.
    next_open = tail["tail_next_due"]
    oldest = s[:, k.OLDEST]
    next_after = np.minimum(s[:, k.OPEN_AFTER], next_open)
    wake = np.minimum.reduce([
        s[:, k.DUE_AFTER],
        s[:, k.CROSSING],
        np.where(s[:, k.LIVE] > 0, day + 1, _NEVER),
        tail["tail_first_due"],
        np.where(oldest != _NEVER, day + 1, _NEVER),
        _first_crossing(next_after, watch, day),
    ])  # fmt: skip
    summary = pl.DataFrame({
        "oldest": _dates(oldest),
        "overdue_principal": s[:, k.PAST_PRINCIPAL],
        "overdue_interest": s[:, k.PAST_INTEREST],
        "overdue_penalty": s[:, k.PENALTY] + tail["tail_penalty"],
        "overdue_fees": s[:, k.PAST_FEES],
        "outstanding_principal": s[:, k.PRINCIPAL] + tail["tail_principal"],
        "next_due": _dates(np.minimum(s[:, k.OPEN_FROM], next_open)),
        "next_due_after": _dates(next_after),
        "open": (s[:, k.OPEN] > 0) | tail["tail_open"],
        "wake_on": _dates(wake),
    })  # fmt: skip
    return pl.concat([loans.select(LOAN_COLUMNS), summary], how="horizontal").cast(SUMMARY_SCHEMA)


def _first_crossing(next_due: np.ndarray, watch: tuple[int, ...], day: int) -> np.ndarray:
    """Per loan, the first day after `day` on which its next due date is `t` days away for a
    `t` of `watch` (_NEVER: none; a due date of _NEVER is none)."""
    first = np.full(next_due.size, _NEVER, dtype=np.int64)
    for days in watch:
        crossing = next_due - days
        ahead = (next_due != _NEVER) & (crossing > day)
        first = np.where(ahead, np.minimum(first, crossing), first)
    return first


def _tail(loans: pl.DataFrame) -> dict[str, Any]:
    """What the lines left out add up to (book.TAIL_SCHEMA), as arrays; nothing if absent."""
    n = loans.height
    if "tail_principal" not in loans.columns:
        zero = np.zeros(n, dtype=np.int64)
        never = np.full(n, _NEVER)
        return {"tail_principal": zero, "tail_penalty": zero,
                "tail_open": np.zeros(n, dtype=np.bool_),
                "tail_next_due": never, "tail_first_due": never}  # fmt: skip

    def day_numbers(name: str) -> np.ndarray:
        return loans.get_column(name).to_physical().cast(pl.Int64).fill_null(_NEVER).to_numpy()

    return {
        "tail_principal": loans.get_column("tail_principal").fill_null(0).to_numpy(),
        "tail_penalty": loans.get_column("tail_penalty").fill_null(0).to_numpy(),
        "tail_open": loans.get_column("tail_open").fill_null(False).to_numpy(),
        "tail_next_due": day_numbers("tail_next_due"),
        "tail_first_due": day_numbers("tail_first_due"),
    }


def _dates(values: np.ndarray) -> pl.Series:
    """Day numbers as dates (_NEVER: no date)."""
    series = pl.Series(values, dtype=pl.Int64)
    return series.set(series == _NEVER, None).cast(pl.Int32).cast(pl.Date)


def states_from_summaries(summaries: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Each loan's state on as_of from its summary, taken on as_of or on an earlier day before
    its `wake_on` (`summary_day`: that day; the next due date then is `next_due_after`)."""
    later = pl.col("summary_day") < pl.lit(as_of)
    next_due = pl.when(later).then("next_due_after").otherwise("next_due")
    dpd = (pl.lit(as_of) - pl.col("oldest")).dt.total_days().clip(lower_bound=0).fill_null(0)
    return (
        summaries.with_columns(
            dpd.alias("dpd"),
            (next_due - pl.lit(as_of)).dt.total_days().alias("to_next_due"),
            pl.lit(as_of).alias("as_of"),
        )
        .with_columns(bucket().alias("bucket"), stage().alias("stage"))
        .drop("oldest", "grace_days")
    )


def loan_states(loans: pl.DataFrame, instalments: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per loan: the domain's LoanState numbers (tested equal to evaluate_loan)."""
    summaries = summarise_loans(loans, instalments, as_of).with_columns(
        pl.lit(as_of).alias("summary_day")
    )
    return states_from_summaries(summaries, as_of).drop(
        "summary_day", "next_due", "next_due_after", "wake_on"
    )


def bucket() -> pl.Expr:
    """M0 inside grace, M1..M6 by 30 days, M7+ beyond 180 (domain/delinquency.py)."""
    dpd = pl.col("dpd")
    expr: Any = pl.when(dpd <= pl.col("grace_days")).then(pl.lit("M0"))
    for bound, name in ((30, "M1"), (60, "M2"), (90, "M3"), (120, "M4"), (150, "M5"), (180, "M6")):
        expr = expr.when(dpd <= bound).then(pl.lit(name))
    result: pl.Expr = expr.otherwise(pl.lit("M7+"))
    return result


def stage() -> pl.Expr:
    """The default stage (domain/stages.py), until the strategy ladder assigns one."""
    dpd = pl.col("dpd")
    pre_due = pl.col("to_next_due").is_between(0, PRE_DUE_DAYS)
    return (
        pl.when(~pl.col("open").fill_null(False)).then(pl.lit("settled"))
        .when((dpd == 0) & pre_due.fill_null(False)).then(pl.lit("pre_due"))
        .when(dpd == 0).then(pl.lit("current"))
        .when(dpd <= pl.col("grace_days")).then(pl.lit("grace"))
        .when(dpd <= 30).then(pl.lit("early"))
        .when(dpd <= 90).then(pl.lit("mid"))
        .when(dpd <= 180).then(pl.lit("late"))
        .otherwise(pl.lit("legal"))
    )  # fmt: skip

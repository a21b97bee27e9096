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

from arrears.batch.grouped import group_starts, mins_by_key, sums_by_key
from arrears.batch.ledger_arrays import day_number, loan_positions
from arrears.domain.stages import PRE_DUE_DAYS

UNPAID_PRINCIPAL = pl.col("principal_due") - pl.col("paid_principal")
POSTED = pl.col("due_date") <= pl.col("as_of")
OWED_INTEREST = pl.when(POSTED).then("interest_charged").otherwise("interest_due") - pl.col(
    "paid_interest"
)
OWED_FEES = pl.when(POSTED).then("fees_charged").otherwise("fee_due") - pl.col("paid_fees")
OWED_PENALTY = pl.col("penalty_charged") - pl.col("paid_penalty")
_NEVER = int(np.iinfo(np.int32).max)  # no such day
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
    Lines are summed by position (loans sorted by loan_id, each loan's lines together;
    `line_loans`: each line's loan position, when known).
    """
    li = loan_positions(loans, instalments, line_loans)
    lines = instalments.select(
        pl.col("due_date").to_physical().cast(pl.Int64).alias("due"),
        pl.col("eff_due").to_physical().cast(pl.Int64).fill_null(_NEVER).alias("eff"),
        UNPAID_PRINCIPAL.alias("o_principal"),
        pl.when(pl.col("due_date") <= as_of).then("interest_charged").otherwise("interest_due")
        .sub(pl.col("paid_interest")).alias("o_interest"),
        pl.when(pl.col("due_date") <= as_of).then("fees_charged").otherwise("fee_due")
        .sub(pl.col("paid_fees")).alias("o_fees"),
        OWED_PENALTY.alias("o_penalty"), "beyond_grace", "pending",
    )  # fmt: skip
    c = {name: lines.get_column(name).to_numpy() for name in lines.columns}
    day = day_number(as_of)
    posted = c["due"] <= day
    past = posted & (c["eff"] < day)
    owes = (c["o_principal"] + c["o_interest"]) > 0
    is_open = (c["o_principal"] + c["o_interest"] + c["o_fees"] + c["o_penalty"]) > 0
    owing = (c["o_principal"] != 0) | (c["o_interest"] != 0) | (c["o_fees"] != 0)
    # The ledger's `live` lines of tomorrow (batch/ledger_kernel.py), other than those falling due.
    live = posted & ((c["o_principal"] > 0) | (~c["beyond_grace"] & owes) | (c["pending"] > 0))
    n = loans.height

    starts = group_starts(li)  # the loans' runs of lines, found once for every sum below

    def total(values: np.ndarray, where: np.ndarray | None = None) -> pl.Series:
        kept = values if where is None else np.where(where, values, 0)
        return pl.Series(sums_by_key(li, kept.astype(np.int64), n, starts))

    def least(values: np.ndarray, where: np.ndarray) -> np.ndarray:
        return mins_by_key(li, np.where(where, values, _NEVER), n, _NEVER, starts)

    tail = _tail(loans)
    # The lines left out (the tail) are all due after as_of: they are neither posted nor past.
    next_open = tail["tail_next_due"]
    oldest = least(c["eff"], posted & owes)
    next_after = np.minimum(least(c["due"], is_open & (c["due"] > day)), next_open)
    wake = np.minimum.reduce([
        least(c["due"], c["due"] > day),
        least(c["eff"] + 1, owing & (c["eff"] >= day) & (c["eff"] != _NEVER)),
        least(np.full(li.size, day + 1), live),
        tail["tail_first_due"],
        np.where(oldest != _NEVER, day + 1, _NEVER),
        _first_crossing(next_after, watch, day),
    ])  # fmt: skip
    summary = pl.DataFrame({
        "oldest": _dates(oldest),
        "overdue_principal": total(c["o_principal"], past),
        "overdue_interest": total(c["o_interest"], past),
        "overdue_penalty": total(c["o_penalty"]) + tail["tail_penalty"],
        "overdue_fees": total(c["o_fees"], past),
        "outstanding_principal": total(c["o_principal"]) + tail["tail_principal"],
        "next_due": _dates(np.minimum(least(c["due"], is_open & (c["due"] >= day)), next_open)),
        "next_due_after": _dates(next_after),
        "open": pl.Series((total(is_open.astype(np.int64)).to_numpy() > 0) | tail["tail_open"]),
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

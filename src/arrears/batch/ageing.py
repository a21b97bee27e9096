"""Each loan's delinquency on `as_of` from its balances: dpd, bucket, stage, overdue parts.

The instalments of a loan are summed up once (`summarise_loans`): the oldest date owing, the
overdue parts, the next due date and the day the loan must next be worked (`wake_on`). A loan
not worked again before that day has the same summary every day until then, so its state on
any such day follows from the summary alone (`states_from_summaries`): a store may leave its
instalments unread.
"""

from datetime import date, timedelta
from typing import Any

import polars as pl

from arrears.domain.stages import PRE_DUE_DAYS

UNPAID_PRINCIPAL = pl.col("principal_due") - pl.col("paid_principal")
POSTED = pl.col("due_date") <= pl.col("as_of")
OWED_INTEREST = pl.when(POSTED).then("interest_charged").otherwise("interest_due") - pl.col(
    "paid_interest"
)
OWED_FEES = pl.when(POSTED).then("fees_charged").otherwise("fee_due") - pl.col("paid_fees")
OWED_PENALTY = pl.col("penalty_charged") - pl.col("paid_penalty")
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


def summarise_loans(loans: pl.DataFrame, instalments: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per loan of `loans`: LOAN_COLUMNS and SUMMARY_SCHEMA on as_of.

    `wake_on` is the first later day on which a line of the loan falls due, crosses into
    "past" with something owing, or may still accrue or cross grace (then as_of + 1): until
    then nothing the summary sums can change unless money arrives.
    """
    lines = instalments.with_columns(pl.lit(as_of).alias("as_of")).with_columns(
        UNPAID_PRINCIPAL.alias("o_principal"),
        OWED_INTEREST.alias("o_interest"),
        OWED_FEES.alias("o_fees"),
        OWED_PENALTY.alias("o_penalty"),
        (POSTED & (pl.col("eff_due") < pl.col("as_of"))).alias("past"),
    )
    past_due = POSTED & ((pl.col("o_principal") + pl.col("o_interest")) > 0)
    is_open = (
        pl.col("o_principal") + pl.col("o_interest") + pl.col("o_fees") + pl.col("o_penalty")
    ) > 0
    owing = (pl.col("o_principal") != 0) | (pl.col("o_interest") != 0) | (pl.col("o_fees") != 0)
    # The ledger's `live` lines of tomorrow (batch/day_step.py), other than those falling due.
    live = POSTED & (
        (pl.col("o_principal") > 0)
        | (~pl.col("beyond_grace") & (pl.col("o_principal") + pl.col("o_interest") > 0))
        | (pl.col("pending") > 0)
    )
    tomorrow = as_of + timedelta(days=1)
    per_loan = lines.group_by("loan_id").agg(
        pl.col("eff_due").filter(past_due).min().alias("oldest"),
        pl.col("o_principal").filter("past").sum().alias("overdue_principal"),
        pl.col("o_interest").filter("past").sum().alias("overdue_interest"),
        pl.col("o_penalty").sum().alias("overdue_penalty"),
        pl.col("o_fees").filter("past").sum().alias("overdue_fees"),
        pl.col("o_principal").sum().alias("outstanding_principal"),
        pl.col("due_date").filter(is_open & (pl.col("due_date") >= as_of)).min().alias("next_due"),
        pl.col("due_date").filter(is_open & (pl.col("due_date") > as_of)).min()
        .alias("next_due_after"),
        is_open.any().alias("open"),
        pl.min_horizontal(
            pl.col("due_date").filter(pl.col("due_date") > as_of).min(),
            (pl.col("eff_due") + pl.duration(days=1)).filter(
                owing & (pl.col("eff_due") >= as_of)
            ).min(),
            pl.when(live.any()).then(pl.lit(tomorrow)),
        ).alias("wake_on"),
    )  # fmt: skip
    joined = loans.select(LOAN_COLUMNS).join(per_loan, on="loan_id", how="left",
                                             maintain_order="left")  # fmt: skip
    credit_wakes = pl.when(pl.col("credit") > 0).then(pl.lit(tomorrow))
    return joined.with_columns(
        *(pl.col(c).fill_null(0) for c in SUMMARY_SCHEMA if SUMMARY_SCHEMA[c] == pl.Int64()),
        pl.col("open").fill_null(False),
        pl.min_horizontal("wake_on", credit_wakes).alias("wake_on"),
    ).cast(SUMMARY_SCHEMA)


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

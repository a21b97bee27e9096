"""Each loan's delinquency on `as_of` from its balances: dpd, bucket, stage, overdue parts."""

from datetime import date
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


def loan_states(loans: pl.DataFrame, instalments: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per loan: the domain's LoanState numbers (tested equal to evaluate_loan)."""
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
    upcoming = pl.col("due_date") >= pl.col("as_of")
    per_loan = lines.group_by("loan_id").agg(
        pl.col("eff_due").filter(past_due).min().alias("oldest"),
        pl.col("o_principal").filter("past").sum().alias("overdue_principal"),
        pl.col("o_interest").filter("past").sum().alias("overdue_interest"),
        pl.col("o_penalty").sum().alias("overdue_penalty"),
        pl.col("o_fees").filter("past").sum().alias("overdue_fees"),
        pl.col("o_principal").sum().alias("outstanding_principal"),
        (pl.col("due_date") - pl.col("as_of")).dt.total_days().filter(upcoming & is_open).min()
        .alias("to_next_due"),
        is_open.any().alias("open"),
    )  # fmt: skip
    dpd = (pl.lit(as_of) - pl.col("oldest")).dt.total_days().clip(lower_bound=0).fill_null(0)
    states = loans.select("loan_id", "grace_days", "credit", "charged").join(
        per_loan, on="loan_id", how="left", maintain_order="left"
    )
    return (
        states.with_columns(dpd.alias("dpd"), pl.lit(as_of).alias("as_of"))
        .with_columns(bucket().alias("bucket"), stage().alias("stage"))
        .drop("oldest", "grace_days")
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

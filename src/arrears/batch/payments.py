"""The payment waterfall over frames: credit held, then the day's payments, oldest due first."""

from datetime import date

import polars as pl

from arrears.batch.ledger import Postings

COMPONENTS = ("fees", "penalty", "interest", "principal")
_PAID = {c: f"paid_{c}" for c in COMPONENTS}


def take_payments(
    inst: pl.DataFrame, loans: pl.DataFrame, payments: pl.DataFrame, day: date, out: Postings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply credit and today's payments down each loan's waterfall.

    Money and dues are laid end to end: each source (credit first, then payments by id) covers
    a stretch of the loan's money, each due (instalments oldest first, components in the
    product's order) a stretch of its waterfall; what a source pays a due is the overlap.
    This equals paying source by source, each greedily down the waterfall.
    """
    sources = _sources(loans, payments, day)
    if sources.height == 0:
        return inst, loans
    dues = _dues(
        inst.join(sources.select("loan_id").unique(), on="loan_id", how="semi"), loans, day
    )
    pairs = sources.join(dues, on="loan_id", how="inner")
    overlap = pl.min_horizontal("s_end", "d_end") - pl.max_horizontal("s_start", "d_start")
    paid = pairs.with_columns(overlap.clip(lower_bound=0).alias("amount")).filter(
        pl.col("amount") > 0
    )
    out.add("allocations", paid.select(
        "loan_id", "payment_id", "seq", "component", "amount", pl.lit(day).alias("paid_on")
    ))  # fmt: skip
    used = paid.group_by("loan_id", "payment_id").agg(pl.col("amount").sum().alias("used"))
    size = pl.col("s_end") - pl.col("s_start")
    left = sources.join(used, on=["loan_id", "payment_id"], how="left").with_columns(
        (size - pl.col("used").fill_null(0)).alias("left")
    )
    # A payment's money beyond every due is held as credit (the credit's own rest stays held).
    held = left.filter((pl.col("left") > 0) & (pl.col("payment_id") != "credit"))
    out.add("allocations", held.select(
        "loan_id", "payment_id", pl.lit(0, pl.Int64).alias("seq"),
        pl.lit("credit").alias("component"), pl.col("left").alias("amount"),
        pl.lit(day).alias("paid_on"),
    ))  # fmt: skip
    credit = left.group_by("loan_id").agg(pl.col("left").sum().alias("new_credit"))
    loans = (
        loans.join(credit, on="loan_id", how="left", maintain_order="left")
        .with_columns(pl.col("new_credit").fill_null(pl.col("credit")).alias("credit"))
        .drop("new_credit")
    )
    return _apply(inst, paid), loans


def _sources(loans: pl.DataFrame, payments: pl.DataFrame, day: date) -> pl.DataFrame:
    """Money to apply today per loan, laid end to end: credit first, then payments by id."""
    credit = loans.filter(pl.col("credit") > 0).select(
        "loan_id", pl.lit("credit").alias("payment_id"), pl.lit(0).alias("order"),
        pl.col("credit").alias("amount"),
    )  # fmt: skip
    todays = payments.filter(pl.col("paid_on") == day).join(
        loans.select("loan_id"), on="loan_id", how="semi"
    )
    paid = todays.select("loan_id", "payment_id", pl.lit(1).alias("order"), "amount")
    sources = pl.concat([credit, paid]).sort("loan_id", "order", "payment_id")
    end = pl.col("amount").cum_sum().over("loan_id")
    return sources.select(
        "loan_id", "payment_id", (end - pl.col("amount")).alias("s_start"), end.alias("s_end")
    )


def _dues(inst: pl.DataFrame, loans: pl.DataFrame, day: date) -> pl.DataFrame:
    """Every component of every instalment as a stretch of its loan's waterfall."""
    posted = pl.col("due_date") <= day
    owed = {
        "fees": pl.when(posted).then("fees_charged").otherwise("fee_due") - pl.col("paid_fees"),
        "penalty": pl.col("penalty_charged") - pl.col("paid_penalty"),
        "interest": pl.when(posted).then("interest_charged").otherwise("interest_due")
        - pl.col("paid_interest"),
        "principal": pl.col("principal_due") - pl.col("paid_principal"),
    }
    ranks = loans.select("loan_id", *(f"rank_{c}" for c in COMPONENTS))
    lines = inst.join(ranks, on="loan_id", how="left")
    long = pl.concat(
        lines.select(
            "loan_id", "due_date", "seq", pl.lit(c).alias("component"),
            pl.col(f"rank_{c}").cast(pl.Int64).alias("rank"), expr.alias("owed"),
        )
        for c, expr in owed.items()
    ).sort("loan_id", "due_date", "seq", "rank")  # fmt: skip
    end = pl.col("owed").cum_sum().over("loan_id")
    return long.select(
        "loan_id", "seq", "component", (end - pl.col("owed")).alias("d_start"), end.alias("d_end")
    )


def _apply(inst: pl.DataFrame, paid: pl.DataFrame) -> pl.DataFrame:
    """Add what each instalment component received."""
    got = paid.group_by("loan_id", "seq").agg(
        *(
            pl.col("amount").filter(pl.col("component") == c).sum().alias(f"got_{c}")
            for c in COMPONENTS
        )
    )
    inst = inst.join(got, on=["loan_id", "seq"], how="left", maintain_order="left")
    return inst.with_columns(
        *((pl.col(_PAID[c]) + pl.col(f"got_{c}").fill_null(0)).alias(_PAID[c]) for c in COMPONENTS)
    ).drop(*(f"got_{c}" for c in COMPONENTS))

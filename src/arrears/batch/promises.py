"""Promises to pay, evaluated against the payments: kept, broken, or still open."""

from datetime import date

import polars as pl

PROMISE_SCHEMA = pl.Schema(
    {
        "promise_id": pl.String,
        "loan_id": pl.String,
        "amount": pl.Int64,
        "made_on": pl.Date,
        "due_on": pl.Date,
        "status": pl.String,
        "settled_on": pl.Date,
        "paid": pl.Int64,  # paid towards the promise so far (in its window, up to the last run)
    }
)


def evaluate_promises(promises: pl.DataFrame, payments: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Kept on the day payments since the promise reach its amount (by its due day, inclusive);
    broken the day after its due day otherwise; open until then. Settled promises stay settled.

    An open promise's `paid` counts the payments already judged; `payments` are the ones not
    yet counted (every payment, when `paid` is 0), so a store may pass only the new ones.
    """
    if promises.height == 0:
        return promises
    promises = promises.with_columns(pl.col("paid").fill_null(0))
    window = (
        promises.filter(pl.col("status") == "open")
        .join(
            payments.select("loan_id", "amount", "paid_on").rename({"amount": "money"}),
            on="loan_id",
        )
        .filter(
            (pl.col("paid_on") >= pl.col("made_on"))
            & (pl.col("paid_on") <= pl.col("due_on"))
            & (pl.col("paid_on") <= as_of)
        )
        .sort("promise_id", "paid_on")
        .with_columns(
            (pl.col("paid") + pl.col("money").cum_sum().over("promise_id")).alias("so_far")
        )
    )
    counted = window.group_by("promise_id").agg(
        pl.col("paid_on").filter(pl.col("so_far") >= pl.col("amount")).min().alias("kept_on"),
        pl.col("money").sum().alias("more"),
    )
    judged = promises.join(counted, on="promise_id", how="left", maintain_order="left")
    is_open = pl.col("status") == "open"
    kept = is_open & pl.col("kept_on").is_not_null()
    broken = is_open & pl.col("kept_on").is_null() & (pl.col("due_on") < as_of)
    return judged.with_columns(
        pl.when(kept).then(pl.lit("kept"))
        .when(broken).then(pl.lit("broken"))
        .otherwise("status").alias("status"),
        pl.when(kept).then("kept_on")
        .when(broken).then(pl.col("due_on") + pl.duration(days=1))
        .otherwise("settled_on").alias("settled_on"),
        (pl.col("paid") + pl.col("more").fill_null(0)).alias("paid"),
    ).drop("kept_on", "more")  # fmt: skip

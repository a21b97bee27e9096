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
        # Paid towards the promise (in its window, up to the last run; a kept one: by the day
        # it was kept). Null in a store's frames: judge the promise afresh (evaluate_promises).
        "paid": pl.Int64,
    }
)


def judged_afresh(promises: pl.DataFrame, which: pl.Expr) -> pl.DataFrame:
    """The promises, those `which` selects to be judged afresh by the run (`paid` null)."""
    return promises.with_columns(
        pl.when(which).then(pl.lit(None, pl.Int64)).otherwise("paid").alias("paid")
    )


def evaluate_promises(
    promises: pl.DataFrame, payments: pl.DataFrame, as_of: date, every: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each promise as domain/promises.judge_promise judges it: kept on the day the payments
    dated from the day it was made through its due day first reach its amount; broken the
    day after its due day otherwise; open until then.

    A promise whose `paid` is null is judged afresh (whatever an earlier run said of it: its
    loan was rebuilt, or the run has not judged it yet) from `every` payment of its loan
    (`payments` when None), which must hold each one dated in its window up to `as_of` (and
    may hold others, or one twice: each payment id counts once). Otherwise a settled promise
    stays settled, and an open one counts on from its `paid` (the payments already judged)
    with `payments`, the ones not yet counted: a store may pass only the new ones.
    """
    if promises.height == 0:
        return promises
    fresh = pl.col("paid").is_null()
    promises = promises.with_columns(
        pl.when(fresh).then(pl.lit("open")).otherwise("status").alias("status"),
        pl.when(fresh).then(pl.lit(None, pl.Date)).otherwise("settled_on").alias("settled_on"),
        pl.col("paid").fill_null(0),
        fresh.alias("fresh"),
    )
    is_open = pl.col("status") == "open"
    counted = [promises.filter(~pl.col("fresh") & is_open).join(_money(payments), on="loan_id")]
    afresh = promises.filter(pl.col("fresh"))
    if afresh.height:  # (a night's promises are mostly judged already: the book is not joined)
        mine = (payments if every is None else every).join(afresh.select("loan_id").unique(),
                                                           on="loan_id", how="semi")  # fmt: skip
        counted.append(afresh.join(_money(mine.unique("payment_id")), on="loan_id"))
    window = pl.concat(counted).filter(
        pl.col("paid_on").is_between(pl.col("made_on"), pl.min_horizontal("due_on", pl.lit(as_of)))
    )
    days = (
        window.group_by("promise_id", "paid_on")
        .agg(pl.col("money").sum(), pl.col("paid").first(), pl.col("amount").first())
        .sort("promise_id", "paid_on")
        .with_columns(
            (pl.col("paid") + pl.col("money").cum_sum().over("promise_id")).alias("so_far")
        )
    )
    reached = pl.col("so_far") >= pl.col("amount")
    counts = days.group_by("promise_id").agg(
        pl.col("paid_on").filter(reached).min().alias("kept_on"),
        pl.col("so_far").filter(reached).min().alias("kept_paid"),  # (it only grows)
        pl.col("so_far").max(),
    )
    judged = promises.join(counts, on="promise_id", how="left", maintain_order="left")
    kept = is_open & pl.col("kept_on").is_not_null()
    broken = is_open & pl.col("kept_on").is_null() & (pl.col("due_on") < as_of)
    return judged.with_columns(
        pl.when(kept).then(pl.lit("kept"))
        .when(broken).then(pl.lit("broken"))
        .otherwise("status").alias("status"),
        pl.when(kept).then("kept_on")
        .when(broken).then(pl.col("due_on") + pl.duration(days=1))
        .otherwise("settled_on").alias("settled_on"),
        pl.when(kept).then("kept_paid").otherwise(pl.coalesce("so_far", "paid")).alias("paid"),
    ).drop("kept_on", "kept_paid", "so_far", "fresh")  # fmt: skip


def _money(payments: pl.DataFrame) -> pl.DataFrame:
    """The payments as the money a promise counts: its loan, amount and day."""
    return payments.select("loan_id", pl.col("amount").alias("money"), "paid_on")

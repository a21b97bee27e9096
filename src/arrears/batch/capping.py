"""Cutting a loan's ordered charge requests to what fits under its cap allowance."""

import polars as pl


def allowance() -> pl.Expr:
    """Today's allowance: cap rate × principal-days ÷ day count, floored (null when uncapped)."""
    return (pl.col("principal_days") * pl.col("cap_num")) // (
        pl.col("cap_den") * pl.col("day_count")
    )


def cut_to_fit(requests: pl.DataFrame, room: pl.DataFrame) -> pl.DataFrame:
    """Add `posted`: each request, in order, posts what is left of its loan's room.

    Posting requests one by one, each taking min(amount, room left), is the same as
    clip(room − Σ earlier requests, 0, amount): a cumulative sum per loan does it at once.
    `requests` must be sorted in posting order; `room` has loan_id and room (null = no cap).
    """
    earlier = pl.col("amount").cum_sum().over("loan_id") - pl.col("amount")
    fits = (pl.col("room") - earlier).clip(lower_bound=0)
    return (
        requests.join(room, on="loan_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("room").is_null())
            .then(pl.col("amount"))
            .otherwise(pl.min_horizontal(fits, pl.col("amount")))
            .alias("posted")
        )
        .drop("room")
    )

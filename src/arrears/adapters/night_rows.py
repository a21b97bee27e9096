"""The loan table rows a night writes (a base of every loan, or a delta of those it worked,
each with its case) and the plan as a re-run keeps it."""

import numpy as np
import polars as pl

from arrears.adapters.book_tables import ORDER, OUTPUTS, payments_counted, typed
from arrears.adapters.loan_table import CASE, DYNAMIC, SCHEMA, positions
from arrears.batch.pipeline import RunFrames

TAIL_NONE = {
    "tail_principal": pl.lit(0, pl.Int64), "tail_penalty": pl.lit(0, pl.Int64),
    "tail_open": pl.lit(False), "tail_next_due": pl.lit(None, pl.Date),
    "tail_first_due": pl.lit(None, pl.Date),
}  # fmt: skip


def watermark(payments: pl.DataFrame, loans: pl.DataFrame) -> pl.DataFrame:
    """Per loan, the count, sum and prints of its payments dated up to its state date."""
    dated = payments.join(loans.select("loan_id", "state_date"), on="loan_id", how="inner")
    upto = dated.filter(pl.col("paid_on") <= pl.col("state_date"))
    counted = ("payments_seen", "payments_sum", "payments_print")
    return (
        loans.select("loan_id")
        .join(payments_counted(upto), on="loan_id", how="left")
        .with_columns(pl.col(*counted).fill_null(0))
    )


def whole_table(rows: pl.DataFrame, frames: RunFrames) -> pl.DataFrame:
    """A base: every loan's row (every loan was worked), with its case."""
    cases = _aligned_cases(frames.cases, rows.get_column("loan_id"))
    return (
        pl.concat([rows.drop(*CASE, strict=False), cases], how="horizontal")
        .select(list(SCHEMA))
        .cast(SCHEMA)
    )


def delta_rows(at: np.ndarray, rows: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """The rows tonight changed, with their positions: the worked loans' (`rows`, at `at`).
    A resting loan's row stays as it was, its case too (pipeline.stages)."""
    mine = _aligned_cases(cases, rows.get_column("loan_id"), at)
    changed = pl.concat([rows.select(*(n for n in DYNAMIC if n not in CASE)), mine],
                        how="horizontal")  # fmt: skip
    return changed.select(pl.Series("at", at, pl.UInt32), *DYNAMIC).cast(DYNAMIC)


def _aligned_cases(
    cases: pl.DataFrame, ids: pl.Series, at: np.ndarray | None = None
) -> pl.DataFrame:
    """The case columns of every loan of `ids` (sorted), null for a loan without a case;
    `at`: where `ids` are in the loan table (when every loan has a case, theirs are there)."""
    names = list(CASE)
    # Only the columns asked for are gathered (with the ids, to check them): the borrower ids
    # too cost a bench night 15 ms.
    mine = (
        cases.select("loan_id", *names)[at]
        if at is not None and cases.height > int(at.max(initial=-1))
        else cases
    )
    if mine.get_column("loan_id").equals(ids):
        return mine.select(pl.col(c).cast(CASE[c]) for c in names)
    at = positions(cases.get_column("loan_id"), ids)
    found = pl.Series(at >= 0)
    picked = cases.select(names)[np.maximum(at, 0)]
    return picked.select(
        pl.when(found).then(pl.col(c)).otherwise(None).cast(CASE[c]).alias(c) for c in names
    )


def carry_outcomes(plan: pl.DataFrame, replaced: pl.DataFrame) -> pl.DataFrame:
    """A re-run plans nothing twice: every action an earlier run of the day planned that was
    carried out stays as recorded, planned again or not (the guards, knowing it done, may
    not plan it again); a row of `plan` with its key is not written. As the database's outbox
    keeps them (db/engine_store._replace_plan)."""
    done = replaced.filter(pl.col("status") != "planned")
    if done.height == 0:
        return plan
    fresh = plan.join(done.select("action_key"), on="action_key", how="anti")
    merged = pl.concat([typed(fresh, OUTPUTS["plan"]), typed(done, OUTPUTS["plan"])])
    return merged.sort(ORDER["plan"])

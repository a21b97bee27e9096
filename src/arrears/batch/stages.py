"""Stage transitions on the strategy ladder, as expressions compiled from the ladder's data."""

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl

from arrears.domain.entry_rules import EntryRule, LoanFacts
from arrears.domain.ladder import Ladder, assign_arms, assign_stage

SETTLED = "settled"
CASE_SCHEMA = pl.Schema(
    {
        "loan_id": pl.String,
        "borrower_id": pl.String,
        "stage": pl.String,
        "entered_on": pl.Date,
        "reason": pl.String,
        "ladder": pl.String,
        "arm": pl.String,
        "as_of": pl.Date,
    }
)


def rule_expr(rule: EntryRule) -> pl.Expr:
    """An entry rule as a boolean expression over the facts columns (domain EntryRule.matches)."""
    conditions = [pl.lit(True)]

    def between(column: str, low: int | None, high: int | None) -> None:
        if low is not None:
            conditions.append(pl.col(column) >= low)
        if high is not None:
            conditions.append(pl.col(column) <= high)

    between("dpd", rule.dpd_min, rule.dpd_max)
    between("overdue_total", rule.amount_min, rule.amount_max)
    if rule.score_min is not None or rule.score_max is not None:
        conditions.append(pl.col("score").is_not_null())
        between("score", rule.score_min, rule.score_max)
    if rule.segments is not None:
        conditions.append(pl.col("segment").is_in(sorted(rule.segments)).fill_null(False))
    if rule.buckets is not None:
        conditions.append(pl.col("bucket").is_in(sorted(rule.buckets)))
    for flag in sorted(rule.flags):
        conditions.append(pl.col("flags").list.contains(flag))
    if rule.due_within is not None:
        conditions.append(pl.col("to_next_due").is_between(0, rule.due_within).fill_null(False))
    return pl.all_horizontal(conditions)


def stage_expr(ladder: Ladder) -> pl.Expr:
    """The stage of each loan: settled, else the first stage whose rule matches, else default."""
    expr: Any = pl.when(pl.col("settled")).then(pl.lit(SETTLED))
    for stage in ladder.stages:
        if stage.entry:
            matched = pl.any_horizontal([rule_expr(rule) for rule in stage.entry])
            expr = expr.when(matched).then(pl.lit(stage.name))
    result: pl.Expr = expr.otherwise(pl.lit(ladder.default_stage))
    return result


def stage_facts(states: pl.DataFrame, loans: pl.DataFrame) -> pl.DataFrame:
    """The columns stage rules read, from the ageing step's states."""
    owners = loans.select("loan_id", "borrower_id", "product")
    return states.join(owners, on="loan_id").with_columns(
        (pl.col("overdue_principal") + pl.col("overdue_interest") + pl.col("overdue_penalty")
         + pl.col("overdue_fees")).alias("overdue_total"),
        (~pl.col("open")).alias("settled"),
        pl.lit(None, pl.String).alias("segment"),
        pl.lit(None, pl.Int64).alias("score"),
        pl.lit([], pl.List(pl.String)).alias("flags"),
    )  # fmt: skip


def transition(
    facts: pl.DataFrame, previous: pl.DataFrame, ladders: Mapping[str, Ladder], as_of: date
) -> pl.DataFrame:
    """Today's cases: the stage each loan is in, since when, why, and its experiment arms."""
    parts = []
    for product, ladder in ladders.items():
        mine = facts.filter(pl.col("product") == product)
        if mine.height:
            parts.append(mine.with_columns(stage_expr(ladder).alias("stage"),
                                           pl.lit(ladder.label).alias("ladder")))  # fmt: skip
    if not parts:
        return pl.DataFrame(schema=CASE_SCHEMA)
    staged = pl.concat(parts, how="diagonal_relaxed")
    before = previous.select(
        "loan_id", pl.col("stage").alias("was"), pl.col("entered_on").alias("since"),
        pl.col("reason").alias("why"), pl.col("arm").alias("had_arm"),
    )  # fmt: skip
    joined = staged.join(before, on="loan_id", how="left")
    changed = joined.filter(pl.col("was").is_null() | (pl.col("was") != pl.col("stage")))
    fresh = _explain(changed, ladders).with_columns(pl.lit(as_of).alias("entered_on"))
    kept = joined.filter(pl.col("was") == pl.col("stage")).select(
        "loan_id", "borrower_id", "stage", pl.col("since").alias("entered_on"),
        pl.col("why").alias("reason"), "ladder", pl.col("had_arm").alias("arm"),
    )  # fmt: skip
    cases = pl.concat([kept, fresh.select(kept.columns)]).with_columns(pl.lit(as_of).alias("as_of"))
    return cases.select(list(CASE_SCHEMA)).cast(CASE_SCHEMA).sort("loan_id")


def _explain(changed: pl.DataFrame, ladders: Mapping[str, Ladder]) -> pl.DataFrame:
    """Reasons and arms for loans entering a stage, from the domain (which also re-checks)."""
    reasons, arms = [], []
    for row in changed.iter_rows(named=True):
        ladder = ladders[row["product"]]
        facts = LoanFacts(
            loan_id=row["loan_id"], dpd=row["dpd"], overdue_total=row["overdue_total"],
            outstanding_principal=row["outstanding_principal"], bucket=row["bucket"],
            settled=row["settled"], days_to_next_due=row["to_next_due"],
        )  # fmt: skip
        decision = assign_stage(ladder, facts)
        if decision.stage != row["stage"]:
            raise AssertionError(f"stage of {row['loan_id']}: {decision.stage} != {row['stage']}")
        reasons.append(decision.reason)
        previous = row["had_arm"]
        chosen = assign_arms(ladder, row["loan_id"])
        arms.append(previous or ";".join(f"{k}={v}" for k, v in sorted(chosen.items())) or "-")
    return changed.with_columns(
        pl.Series("reason", reasons, pl.String), pl.Series("arm", arms, pl.String)
    )

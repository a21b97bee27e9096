"""Stage transitions on the strategy ladder, as expressions compiled from the ladder's data."""

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import polars as pl

from arrears.batch.ageing import Watch
from arrears.domain.entry_rules import EntryRule, LoanFacts
from arrears.domain.experiments import Experiment, arms_for
from arrears.domain.ladder import SETTLED, Ladder, assign_stage, facts_read
from arrears.domain.stages import NOT_LENT, PRE_DUE_DAYS

# Stages, reasons, ladders and arms repeat across a million cases: kept as categories.
CASE_SCHEMA = pl.Schema(
    {
        "loan_id": pl.String(),
        "borrower_id": pl.String(),
        "stage": pl.Categorical(),
        "entered_on": pl.Date(),
        "reason": pl.Categorical(),
        "ladder": pl.Categorical(),
        "arm": pl.Categorical(),
        "as_of": pl.Date(),
    }
)

# The flags set on loans (domain.flags), a row per loan and flag.
FLAG_SCHEMA = pl.Schema({"loan_id": pl.String(), "flag": pl.String()})

# Facts a run carries only when a ladder reads them: a rule on one left out never matches (as
# the domain decides for a loan with no segment, score or flag), and costs nothing to evaluate.
OPTIONAL_FACTS = frozenset({"segment", "score", "flags"})


def rule_expr(rule: EntryRule, absent: frozenset[str] = frozenset()) -> pl.Expr:
    """An entry rule as a boolean expression over the facts columns (domain EntryRule.matches);
    `absent`: optional facts with no column (no loan has them)."""
    needs = {"segment": rule.segments is not None, "flags": bool(rule.flags),
             "score": (rule.score_min, rule.score_max) != (None, None)}  # fmt: skip
    if any(used and name in absent for name, used in needs.items()):
        return pl.lit(False)
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


def stage_expr(ladder: Ladder, absent: frozenset[str] = frozenset()) -> pl.Expr:
    """The stage of each loan: not lent, settled, else the first stage whose rule matches,
    else default (as categories: a stage name is one of few)."""

    def name(text: str) -> pl.Expr:
        return pl.lit(text).cast(pl.Categorical())

    expr: Any = pl.when(~pl.col("lent")).then(name(NOT_LENT)).when(pl.col("settled"))
    expr = expr.then(name(SETTLED))
    for stage in ladder.stages:
        if stage.entry:
            matched = pl.any_horizontal([rule_expr(rule, absent) for rule in stage.entry])
            expr = expr.when(matched).then(name(stage.name))
    result: pl.Expr = expr.otherwise(name(ladder.default_stage))
    return result


def watch(ladders: Mapping[str, Ladder]) -> Watch:
    """The values of the facts that change day by day by themselves at which a loan's stage
    may change with nothing else changing: the days before its next due date (every
    `due_within` of any rule, and the default pre-due days: a rule reads `0 <= days to next
    due <= N`, so its truth changes only on the day N is reached), its days past due and its
    overdue total (each rule's lower bound, and its upper bound + 1), and whether any rule
    reads the bucket."""
    rules = [rule for ladder in ladders.values() for stage in ladder.stages for rule in stage.entry]

    def edges(low: str, high: str) -> tuple[int, ...]:
        lows = {getattr(rule, low) for rule in rules} - {None}
        highs = {getattr(rule, high) + 1 for rule in rules if getattr(rule, high) is not None}
        return tuple(sorted(lows | highs))

    return Watch(
        due_within=tuple(
            sorted({PRE_DUE_DAYS, *(r.due_within for r in rules if r.due_within is not None)})
        ),
        dpd=edges("dpd_min", "dpd_max"),
        amounts=edges("amount_min", "amount_max"),
        buckets=any(rule.buckets is not None for rule in rules),
    )


def stage_facts(states: pl.DataFrame) -> pl.DataFrame:
    """The columns stage rules read, from the ageing step's states (which carry the owner);
    OPTIONAL_FACTS are left out (with_loan_facts adds those a ladder reads)."""
    return states.with_columns(
        (pl.col("overdue_principal") + pl.col("overdue_interest") + pl.col("overdue_penalty")
         + pl.col("overdue_fees")).alias("overdue_total"),
        (~pl.col("open")).alias("settled"),
        (pl.col("stage") != NOT_LENT).alias("lent"),  # the default stage says (ageing.stage)
    )  # fmt: skip


def with_loan_facts(
    facts: pl.DataFrame, loans: pl.DataFrame, ladders: Mapping[str, Ladder], flags: pl.DataFrame
) -> pl.DataFrame:
    """`facts` with the loans' segment and score (book.LOAN_SCHEMA's loan_segment, loan_score)
    as `segment` and `score`, and their `flags` (FLAG_SCHEMA rows, as a list per loan), when a
    ladder's rules read them: left out otherwise (a book whose ladders read none carries none
    of these columns through the stages)."""
    read = set().union(*(facts_read(ladder) for ladder in ladders.values()))
    wanted = {"segment": "loan_segment", "score": "loan_score"}
    wanted = {fact: column for fact, column in wanted.items()
              if fact in read and column in loans.columns}  # fmt: skip
    if wanted:
        given = loans.select("loan_id", *(pl.col(c).alias(f) for f, c in wanted.items()))
        if given.get_column("loan_id").equals(facts.get_column("loan_id")):
            facts = facts.with_columns(given.drop("loan_id"))
        else:
            facts = facts.join(given, on="loan_id", how="left", maintain_order="left")
    if "flags" not in read or flags.height == 0:
        return facts  # no column: no loan has a flag (not an empty list per worked loan)
    listed = flags.group_by("loan_id").agg(pl.col("flag").unique().sort().alias("flags"))
    return facts.join(listed, on="loan_id", how="left", maintain_order="left").with_columns(
        pl.col("flags").fill_null(pl.lit([], pl.List(pl.String)))
    )


def transition(
    facts: pl.DataFrame, previous: pl.DataFrame, ladders: Mapping[str, Ladder], as_of: date
) -> pl.DataFrame:
    """Today's cases: the stage each loan is in, since when, why, and its experiment arms.

    Loans of a product without a ladder get no case. `facts` and `previous` are in loan
    order; when they hold the same loans, they are laid side by side instead of joined. A
    loan that stays in its stage keeps its case; only the others are explained.
    """
    category = pl.Categorical()
    # Only the ladders of the products present are compiled.
    present = set(facts.get_column("product").unique().to_list())
    ladders = {product: ladder for product, ladder in ladders.items() if product in present}
    absent = frozenset(name for name in OPTIONAL_FACTS if name not in facts.columns)
    staged = facts.filter(pl.col("product").is_in(sorted(ladders))).with_columns(
        _by_product(ladders, lambda ladder: stage_expr(ladder, absent))
        .cast(category)
        .alias("stage"),
        _by_product(ladders, lambda ladder: pl.lit(ladder.label)).cast(category).alias("ladder"),
    )
    before = previous.select(
        "loan_id", pl.col("stage").alias("was"), pl.col("entered_on").alias("since"),
        pl.col("reason").alias("why"), pl.col("arm").alias("had_arm"),
    ).cast({"was": category, "why": category, "had_arm": category})  # fmt: skip
    if staged.get_column("loan_id").equals(before.get_column("loan_id")):
        joined = pl.concat([staged, before.drop("loan_id")], how="horizontal")
    else:
        joined = staged.join(before, on="loan_id", how="left", maintain_order="left")
    same = (joined.get_column("was") == joined.get_column("stage")).fill_null(False)
    changed = same.not_().arg_true()
    explained = _explain(joined[changed], ladders)
    reason = joined.get_column("why").scatter(
        changed, explained.get_column("reason").cast(category)
    )
    # A new case records no arm yet: _refitted draws those of the experiments its stage runs.
    arm = joined.get_column("had_arm").fill_null("-")
    arm = _refitted(joined.select("loan_id", "ladder", "was", "stage"), arm, ladders)
    return joined.select(
        "loan_id", "borrower_id", "stage",
        pl.when(pl.Series(same)).then("since").otherwise(pl.lit(as_of)).alias("entered_on"),
        reason.alias("reason"), "ladder", arm.alias("arm"), pl.lit(as_of).alias("as_of"),
    ).cast(CASE_SCHEMA)  # fmt: skip


def arm_text(arms: Mapping[str, str]) -> str:
    """A loan's arms as a case records them: 'experiment=arm;…' by name, '-' for none."""
    return ";".join(f"{k}={v}" for k, v in sorted(arms.items())) or "-"


def arm_plan(
    ladder: Ladder, recorded: str, was: str | None, stage: str
) -> tuple[dict[str, str], list[Experiment]]:
    """Of a case's `recorded` arms (arm_text) on a night it goes from stage `was` (None: a new
    case) to `stage`, those kept, and the experiments whose arm it draws (arm_for): one
    entering the experiment's stages from outside them, or in them with none recorded (a
    new version added the experiment or the stage, renamed it or an arm), draws; the
    recorded arm is kept otherwise, in and out of those stages; none is drawn outside them
    (STRATEGY.md). An arm of an experiment or arm the ladder no longer runs is dropped."""
    had = dict(p.split("=", 1) for p in recorded.split(";") if "=" in p)
    kept: dict[str, str] = {}
    drawn: list[Experiment] = []
    for e in ladder.experiments:
        entering = e.runs_in(stage) and (was is None or not e.runs_in(was))
        if had.get(e.name) in e.arm_names and not entering:
            kept[e.name] = had[e.name]
        elif e.runs_in(stage):
            drawn.append(e)
    return kept, drawn


def _refitted(cases: pl.DataFrame, arms: pl.Series, ladders: Mapping[str, Ladder]) -> pl.Series:
    """`arms` (one per row of `cases`: loan_id, ladder, was, stage) as arm_plan leaves them.
    Asked once per distinct ladder, arm and stages, then for the loans whose arms change
    (one drawn, or one recorded under an experiment or arm the ladder no longer runs: it
    would match no treatment for good)."""
    by_label = {ladder.label: ladder for ladder in ladders.values()}
    keys = ["ladder", "arm", "was", "stage"]
    keyed = cases.select("ladder", "was", "stage").with_columns(arms.alias("arm")).select(keys)

    def changes(label: str, arm: str, was: str | None, stage: str) -> bool:
        kept, drawn = arm_plan(by_label[label], arm, was, stage)
        return bool(drawn) or arm_text(kept) != arm

    stale = [
        key for key in keyed.unique().iter_rows()
        if key[0] in by_label and key[1] is not None and changes(*key)
    ]  # fmt: skip
    if not stale:
        return arms
    plans = pl.DataFrame(stale, schema=dict.fromkeys(keys, pl.String), orient="row")
    picked = keyed.with_row_index("row").join(
        plans.cast(pl.Categorical()).with_row_index("plan"), on=keys, how="inner",
        nulls_equal=True,
    )  # fmt: skip
    loans = cases.get_column("loan_id").gather(picked.get_column("row")).to_list()
    by_plan: dict[int, list[int]] = {}
    for at, plan in enumerate(picked.get_column("plan").to_list()):
        by_plan.setdefault(plan, []).append(at)
    refits = [""] * len(loans)
    for plan, ats in by_plan.items():
        # What a key keeps and draws is the key's (arm_plan): worked out once, not per loan.
        kept, drawn = arm_plan(by_label[stale[plan][0]], *stale[plan][1:])
        ids = [loans[at] for at in ats]
        names = [e.name for e in drawn]
        # Each loan's arms drawn, one per experiment: a key's loans draw few combinations,
        # each written out once (a bench night's 3,201, one per loan: 17-20 ms line-profiled).
        drawn_arms = [arms_for(ids, e) for e in drawn]
        combinations = list(zip(*drawn_arms, strict=True)) if drawn else [()] * len(ats)
        texts: dict[tuple[str, ...], str] = {}
        for at, combination in zip(ats, combinations, strict=True):
            text = texts.get(combination)
            if text is None:
                chosen = dict(zip(names, combination, strict=True))
                text = texts[combination] = arm_text({**kept, **chosen})
            refits[at] = text
    # A copy: scatter may write into the memory `arms` shares with the frame it came from.
    return arms.clone().scatter(picked.get_column("row"), pl.Series(refits, dtype=arms.dtype))


def _products_by_ladder(ladders: Mapping[str, Ladder]) -> dict[str, tuple[Ladder, list[str]]]:
    """Each distinct ladder (by label) with the products on it (products share ladders)."""
    by_label: dict[str, tuple[Ladder, list[str]]] = {}
    for product, ladder in ladders.items():
        by_label.setdefault(ladder.label, (ladder, []))[1].append(product)
    return by_label


def _by_product(ladders: Mapping[str, Ladder], make: Callable[[Ladder], pl.Expr]) -> pl.Expr:
    """An expression choosing, per row, `make(ladder)` of the row's product's ladder: one
    branch per distinct ladder (products share ladders; each branch is computed for every
    row, so fewer branches cost less)."""
    by_label = _products_by_ladder(ladders)
    if len(by_label) == 1:
        [(ladder, _)] = by_label.values()
        return make(ladder)
    expr: Any = None
    if not by_label:  # no loan of a product with a ladder (e.g. no loan worked tonight)
        return pl.lit(None, pl.Categorical())
    for ladder, products in by_label.values():
        chosen = pl.col("product").is_in(sorted(products))
        expr = (
            pl.when(chosen).then(make(ladder))
            if expr is None
            else expr.when(chosen).then(make(ladder))
        )
    result: pl.Expr = expr.otherwise(pl.lit(None, pl.Categorical()))
    return result


# LoanFacts field → the facts column it is read from.
_FACT_COLUMNS = {
    "dpd": "dpd", "overdue_total": "overdue_total", "bucket": "bucket", "settled": "settled",
    "lent": "lent",
    "days_to_next_due": "to_next_due", "segment": "segment", "score": "score", "flags": "flags_key",
}  # fmt: skip


def _explain(changed: pl.DataFrame, ladders: Mapping[str, Ladder]) -> pl.DataFrame:
    """Reasons (strings, in `changed`'s order) for loans entering a stage (each of a product
    of `ladders`), from the domain (which also re-checks the stage).

    assign_stage depends only on the facts a ladder's rules read (facts_read), so it is asked
    once per ladder and distinct values of those facts. Products sharing a ladder are
    explained together (the bench's two share one: 59,570 loans in 85 distinct facts)."""
    missing = {"segment": pl.lit(None, pl.String), "score": pl.lit(None, pl.Int64)}
    changed = changed.with_columns(
        value.alias(name) for name, value in missing.items() if name not in changed.columns
    ).with_columns(
        pl.col("stage").cast(pl.String),
        # No flags column: no loan has a flag (a list per loan, sorted and joined, cost
        # 5-8 ms a bench night for nothing).
        pl.col("flags").list.sort().list.join(",").alias("flags_key")
        if "flags" in changed.columns else pl.lit("").alias("flags_key"),
    )  # fmt: skip
    by_label = _products_by_ladder(ladders)
    if len(by_label) == 1:
        [(ladder, _)] = by_label.values()
        return _explained(changed, ladder)  # one ladder for all: no split, no sort
    changed = changed.with_row_index("_k")
    parts = [pl.DataFrame(schema={"_k": pl.UInt32, "reason": pl.String})]
    for ladder, products in by_label.values():
        mine = changed.filter(pl.col("product").is_in(sorted(products)))
        if mine.height:
            parts.append(pl.concat([mine.select("_k"), _explained(mine, ladder)],
                                   how="horizontal"))  # fmt: skip
    return pl.concat(parts).sort("_k").drop("_k")


def _explained(mine: pl.DataFrame, ladder: Ladder) -> pl.DataFrame:
    """Reasons (in `mine`'s order) of the loans of one ladder entering a stage."""
    read = sorted(_FACT_COLUMNS[name] for name in facts_read(ladder))
    keys = mine.select(*read, "stage").unique()
    reasons = []
    for row in keys.iter_rows(named=True):
        decision = assign_stage(ladder, _facts(row))
        if decision.stage != row["stage"]:
            raise AssertionError(f"stage {decision.stage} != {row['stage']} for {row}")
        reasons.append(decision.reason)
    explained = keys.with_columns(pl.Series("reason", reasons, pl.String))
    mine = mine.join(explained, on=[*read, "stage"], how="left", nulls_equal=True,
                     maintain_order="left")  # fmt: skip
    return mine.select("reason")


def _facts(row: Mapping[str, Any]) -> LoanFacts:
    """Domain facts from a row of the columns a ladder reads (the rest left at neutral values:
    the ladder's decision does not depend on them)."""
    flags = row.get("flags_key")
    return LoanFacts(
        loan_id="", dpd=row.get("dpd", 0), overdue_total=row.get("overdue_total", 0),
        outstanding_principal=0, bucket=row.get("bucket", "M0"),
        settled=row.get("settled", False), days_to_next_due=row.get("to_next_due"),
        lent=row.get("lent", True),
        segment=row.get("segment"), score=row.get("score"),
        flags=frozenset(flags.split(",")) if flags else frozenset(),
    )  # fmt: skip

"""Which treatments of the ladders fall due today for each case (the plan's candidates)."""

from collections.abc import Mapping
from datetime import date

import polars as pl

from arrears.batch.plan_people import ActionHistory, KnownHistory
from arrears.domain.escalation import done_since
from arrears.domain.ladder import Ladder, owed_from_gentler

# A case's treatments as rows (_rules_by_arm): its ladder, stage and arms, and each treatment.
_SCHEMA = pl.Schema(
    [("ladder", pl.String), ("stage", pl.String), ("arm", pl.String), ("t_day", pl.Int64),
     ("every", pl.Int64), ("until", pl.Int64), ("action", pl.String), ("template", pl.String),
     ("until_done", pl.Boolean), ("when_done", pl.String), ("owed", pl.Boolean)]
)  # fmt: skip


def due_candidates(
    cases: pl.DataFrame,
    ladders: Mapping[str, Ladder],
    as_of: date,
    history: ActionHistory | None = None,
) -> pl.DataFrame:
    """Treatments falling due today for each case (by the day of its stage and its arms).

    The vector form of due_treatments: on its day, or every N days after it until `until`,
    for the arms it names (none named: every arm); an `until_done` one not once its action is
    on record as done since the case entered its stage, a `when_done` one only once its
    prerequisite is on record as done (`history`, asked only for those).
    """
    keys = ["ladder", "stage", "arm"]
    # Only cases in a stage with treatments can have one due: the rest (most of a book, in
    # no stage or one without treatments) are dropped by stage name before the join, which
    # carries the case's row number rather than its strings (gathered for the due ones only).
    named = sorted({
        stage.name for ladder in ladders.values() for stage in ladder.stages
        if stage.treatments or owed_from_gentler(ladder, stage.name)
    })  # fmt: skip
    staged = (
        cases.lazy()
        .select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("case"), *keys, "entered_on")
        .filter(pl.col("stage").is_in(named))
        .with_columns(
            pl.col(keys).cast(pl.Categorical()),
            (pl.lit(as_of) - pl.col("entered_on")).dt.total_days().alias("day"),
        )
        .collect()
    )
    # Each treatment with the days in its stage (of those the cases are on) it falls due on:
    # the cases then join their due treatments only, not every treatment of their stage.
    rules = _rules_by_arm(ladders, staged.get_column("arm").unique().cast(pl.String).to_list())
    since = pl.col("day") - pl.col("t_day")
    repeats = pl.col("every").is_not_null() & (since > 0) & (since % pl.col("every") == 0)
    within = pl.col("until").is_null() | (pl.col("day") <= pl.col("until"))
    dated = rules.join(staged.select(pl.col("day").unique()), how="cross").filter(
        (since == 0) | (repeats & within)
    )
    hits = staged.join(
        dated.select("rule", pl.col(keys).cast(pl.Categorical()), "day"),
        on=[*keys, "day"], how="inner", nulls_equal=True,
    )  # fmt: skip
    # One chunk first: gathering rows in join order from a column in many is several times
    # slower than copying it.
    names = cases.select("loan_id", "borrower_id").rechunk()
    # The treatments the record rules out are dropped from the hits, before the candidates'
    # texts are gathered: dropped from those, a bench night's 100,000 were copied (15 ms).
    hits = _not_done_yet(hits.select("case", "rule", "entered_on"), rules, names,
                         history or KnownHistory({}))  # fmt: skip
    due = pl.concat(
        [
            names.select(pl.all().gather(hits.get_column("case"))),
            rules.select(pl.col(*keys, "action", "template").gather(hits.get_column("rule"))),
        ],
        how="horizontal",
    )
    return due.select("loan_id", "borrower_id", "stage", "ladder", "arm", "action", "template")


def _rules_by_arm(ladders: Mapping[str, Ladder], arms: list[str | None]) -> pl.DataFrame:
    """For each case arm text (`arms`, the cases' distinct ones, batch/stages.arm_text) and
    each stage of each ladder, the treatments a case there falls due under, numbered `rule`:
    the stage's own for those arms, and what a loan in them is owed (owed_from_gentler, each
    plan key once) as the domain's due_treatments takes them. An arm is matched once here,
    not once per case."""
    rows = []
    for ladder in {ladder.label: ladder for ladder in ladders.values()}.values():
        for text in arms:
            mine = frozenset(p.split("=", 1)[1] for p in (text or "").split(";") if "=" in p)
            for stage in ladder.stages:
                own = [t for t in stage.treatments if t.arms is None or t.arms & mine]
                owed = owed_from_gentler(ladder, stage.name, mine)
                rows += [
                    (ladder.label, stage.name, text, t.day, t.every, t.until, t.action,
                     t.template, t.until_done, t.when_done, is_owed)
                    for t, is_owed in [*((t, False) for t in own), *((t, True) for t in owed)]
                ]  # fmt: skip
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row").with_row_index("rule")


def _not_done_yet(
    hits: pl.DataFrame, rules: pl.DataFrame, names: pl.DataFrame, history: ActionHistory
) -> pl.DataFrame:
    """The `hits` (case, rule, entered_on: a case's row of `names`, a treatment's of `rules`)
    without the treatments the loan's record rules out: an until_done one whose action is on
    record as done since the case entered its stage, a when_done one whose prerequisite is not
    on record as done, an owed one of a gentler stage whose action is on record as done
    (escalation.done_since)."""
    ruled = rules.filter(
        pl.col("until_done") | pl.col("when_done").is_not_null() | pl.col("owed")
    ).get_column("rule")
    conditional = hits.get_column("rule").is_in(ruled.implode())
    asked = hits.filter(conditional)
    if asked.height == 0:
        return hits
    facts = pl.concat(
        [
            names.select(pl.col("loan_id").gather(asked.get_column("case"))),
            rules.select(
                pl.col("action", "until_done", "when_done", "owed").gather(asked.get_column("rule"))
            ),
            asked.select("entered_on"),
        ],
        how="horizontal",
    )
    records = history.of(facts.get_column("loan_id").unique().sort().to_list())

    def allowed(loan_id: str, action: str, until_done: bool, when: str | None, owed: bool,
                entered_on: date) -> bool:  # fmt: skip
        ever = done_since(records.get(loan_id, ()), date.min)
        return (
            not (until_done and action in done_since(records.get(loan_id, ()), entered_on))
            and (when is None or when in ever)
            and not (owed and action in ever)
        )

    keep = [allowed(*row) for row in facts.iter_rows()]
    # One filter of the hits, each asked one by its answer.
    return hits.filter((~conditional).scatter(conditional.arg_true(), keep))

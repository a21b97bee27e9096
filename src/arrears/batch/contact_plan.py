"""Today's planned actions: due treatments, escalation guards and the limitation rule, then
the compliance engine.

Every contact is planned only with a lawful send window in the borrower's local time
(batch/plan_windows.py) and only if, counting what is already done or planned that day, no
cap is exceeded (batch/plan_rounds.py); anything a rule refuses is recorded with the rule and
counted. The treatments due come from batch/due_treatments.py, what is known of the people
from batch/plan_people.py.
"""

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from arrears.batch.contact_checks import UTC
from arrears.batch.plan_people import ActionHistory, KnownHistory, People
from arrears.batch.plan_rounds import refuse_in_rounds
from arrears.batch.plan_windows import closed, with_windows
from arrears.batch.time_barred import TimeBars
from arrears.domain.contact import Hold
from arrears.domain.contact_rules import held_on
from arrears.domain.escalation import GUARDED_ACTIONS, ActionRecord, check_escalation
from arrears.domain.ladder import Ladder
from arrears.domain.rule_pack import RulePack

# Which channel carries each action; None: the action contacts nobody (it is internal).
CHANNEL_OF: Mapping[str, str | None] = {
    "sms": "sms", "call": "call", "email": "email", "letter": "letter",
    "formal_notice": "letter", "credit_pre_notice": "letter", "lawyers_letter": "letter",
    "agency_placement": None, "agency_recall": None, "field_visit_request": None,
    "legal_review": None,
}  # fmt: skip
PLAN_SCHEMA = pl.Schema(
    [("action_key", pl.String), ("loan_id", pl.String), ("borrower_id", pl.String),
     ("action", pl.String), ("channel", pl.String), ("template", pl.String),
     ("planned_for", pl.Date), ("window_start", UTC), ("window_end", UTC),
     ("stage", pl.String), ("arm", pl.String), ("status", pl.String), ("outcome", pl.String)]
)  # fmt: skip
# Steps that contact nobody but press for payment: a hold stops them as it stops a contact
# (cn.hold: GB/T 45251-2025, disputes handled before collection goes on; us.hold: 12 CFR
# 1006.38(d)(2), no collection until verification). A recall presses for nothing.
PRESSING = frozenset({"agency_placement", "field_visit_request", "legal_review"})
BLOCKED_SCHEMA = pl.Schema({
    "as_of": pl.Date, "loan_id": pl.String, "action": pl.String, "rule": pl.String,
    "detail": pl.String,
})  # fmt: skip


def plan_actions(
    candidates: pl.DataFrame,
    ladders_by_label: Mapping[str, Ladder],
    packs: Mapping[str, RulePack],
    jurisdiction_of: Mapping[str, str],
    people: People,
    history: ActionHistory | Mapping[str, Sequence[ActionRecord]],
    as_of: date,
    time_bars: TimeBars | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Plan each candidate or block it, naming the rule; caps count what is planned too.
    `time_bars`: the limitation rule's refusals (None: no product has one)."""
    if isinstance(history, Mapping):
        history = KnownHistory(history)
    # Every key of a candidate: its order (hence which one a cap lets through first) never
    # depends on the order the candidates were found in.
    cands = candidates.sort("borrower_id", "loan_id", "action", "template", maintain_order=True)
    cands = cands.with_row_index("req")
    cands = cands.with_columns(
        pl.col("action").replace_strict(CHANNEL_OF, return_dtype=pl.String).alias("channel"),
        pl.col("ladder").replace_strict(jurisdiction_of, return_dtype=pl.String)
        .alias("jurisdiction"),
    )  # fmt: skip
    refusals = [
        _guard_refusals(cands, ladders_by_label, history, as_of),
        _hold_refusals(cands, people.holds, packs, as_of),
    ]
    if time_bars is not None:
        refusals.append(time_bars.refusals(cands, as_of))
    blocked = [pl.concat(refusals)]
    # Only what the checks read goes on: the plan takes the windows back by req.
    asked = cands.select("req", "borrower_id", "jurisdiction", "channel")
    contacts = with_windows(
        asked.join(blocked[0].select("req"), on="req", how="anti").filter(
            pl.col("channel").is_not_null()
        ),
        people.reach, packs, as_of,
    )  # fmt: skip
    blocked.append(closed(contacts.filter(pl.col("window_end").is_null())))
    refused = refuse_in_rounds(contacts.filter(pl.col("window_end").is_not_null()), people,
                                packs)  # fmt: skip
    blocked.append(refused)
    gone = pl.concat(blocked)
    kept = cands.join(gone.select("req").unique(), on="req", how="anti")
    windows = contacts.select("req", "window_start", "window_end")
    if windows.height > asked.height:  # a row per pack: each of a contact's has its window
        windows = windows.unique("req")
    plan = kept.join(windows, on="req", how="left")
    return _plan_frame(plan, as_of), _blocked_frame(cands, gone, as_of)


def _guard_refusals(
    cands: pl.DataFrame,
    ladders_by_label: Mapping[str, Ladder],
    history: ActionHistory,
    as_of: date,
) -> pl.DataFrame:
    """(req, rule, detail) for heavy actions whose escalation guard refuses them."""
    guarded = pl.lit(False)
    for label, ladder in ladders_by_label.items():
        actions = sorted(GUARDED_ACTIONS | {g.action for g in ladder.guards})
        guarded = guarded | ((pl.col("ladder") == label) & pl.col("action").is_in(actions))
    mine = cands.filter(guarded)
    records = history.of(mine.get_column("loan_id").unique().to_list()) if mine.height else {}
    rows = []
    for req, loan_id, action, stage, label in mine.select(
        "req", "loan_id", "action", "stage", "ladder"
    ).iter_rows():
        decision = check_escalation(ladders_by_label[label], action, records.get(loan_id, ()),
                                    as_of, stage=stage)  # fmt: skip
        if not decision.allowed:
            rows.append((req, f"escalation.{action}", "; ".join(decision.reasons)))
    schema = {"req": pl.UInt32, "rule": pl.String, "detail": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _hold_refusals(
    cands: pl.DataFrame, holds: pl.DataFrame, packs: Mapping[str, RulePack], as_of: date
) -> pl.DataFrame:
    """(req, rule, detail) for steps that press for payment without contacting anyone, on a
    day a hold rule of their pack covers: held as a letter is, like the desk's filing
    (services/contact_check.holds_on_day); the contacts meet the hold rules in the checks."""
    mine = cands.filter(pl.col("action").is_in(sorted(PRESSING))).join(
        holds.select("borrower_id").unique(), on="borrower_id", how="semi"
    )
    rows = []
    if mine.height:
        held: dict[str, list[Hold]] = {}
        for borrower, kind, starts_on, ends_on in (
            holds.join(mine.select("borrower_id").unique(), on="borrower_id", how="semi")
            .select("borrower_id", "kind", "starts_on", "ends_on")
            .iter_rows()
        ):
            held.setdefault(borrower, []).append(Hold(kind, starts_on, ends_on))
        for req, borrower, jurisdiction in mine.select(
            "req", "borrower_id", "jurisdiction"
        ).iter_rows():
            pack = packs.get(jurisdiction)
            for rule in pack.rules if pack is not None else ():
                if rule.kind == "hold" and "letter" in rule.channels:
                    passed, detail = held_on(rule, held[borrower], as_of)
                    if not passed:
                        rows.append((req, rule.rule_id, detail))
    schema = {"req": pl.UInt32, "rule": pl.String, "detail": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _plan_frame(plan: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The planned actions (PLAN_SCHEMA), keyed so that a re-run plans nothing twice."""
    key = pl.format("{}:{}:{}:{}", pl.lit(as_of.isoformat()), "loan_id", "action", "template")
    return plan.select(
        key.alias("action_key"), "loan_id", "borrower_id", "action", "channel", "template",
        pl.lit(as_of).alias("planned_for"), pl.col("window_start").cast(UTC),
        pl.col("window_end").cast(UTC), "stage", "arm", pl.lit("planned").alias("status"),
        pl.lit(None, pl.String).alias("outcome"),
    ).cast(PLAN_SCHEMA)  # fmt: skip


def _blocked_frame(cands: pl.DataFrame, gone: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The refusals (BLOCKED_SCHEMA), one row per action and rule (`cands`' row i is req i)."""
    picked = cands.select(pl.col("loan_id", "action").gather(gone.get_column("req")))
    named = pl.concat([gone, picked], how="horizontal").sort("req")
    blocked = named.select(
        pl.lit(as_of).alias("as_of"), "loan_id", "action", "rule", "detail"
    ).cast(BLOCKED_SCHEMA)
    return blocked.unique(["as_of", "loan_id", "action", "rule"], maintain_order=True)

"""Today's planned actions: due treatments, escalation guards, then the compliance engine.

Every contact is planned only with a lawful send window in the borrower's local time and
only if, counting what is already done or planned that day, no cap is exceeded; anything a
rule refuses is recorded with the rule and counted.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from arrears.domain.compliance import decide_contact, lawful_window
from arrears.domain.contact import ContactAttempt, ContactFacts, ContactRequest, Hold, OptOut
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
# How a planned, not yet made, contact counts against the caps: as the costliest outcome.
_PLANNED_OUTCOME = {"call": "connected", "visit": "connected"}
_UTC = pl.Datetime("us", "UTC")
PLAN_SCHEMA = pl.Schema(
    [("action_key", pl.String), ("loan_id", pl.String), ("borrower_id", pl.String),
     ("action", pl.String), ("channel", pl.String), ("template", pl.String),
     ("planned_for", pl.Date), ("window_start", _UTC), ("window_end", _UTC),
     ("stage", pl.String), ("arm", pl.String), ("status", pl.String), ("outcome", pl.String)]
)  # fmt: skip
BLOCKED_SCHEMA = pl.Schema({
    "as_of": pl.Date, "loan_id": pl.String, "action": pl.String, "rule": pl.String,
    "detail": pl.String,
})  # fmt: skip


@dataclass
class People:
    """What the planner knows of borrowers: zones, phones, history, holds and opt-outs."""

    zones: Mapping[str, tuple[tuple[str, ...], str]]  # borrower → (zones, day zone)
    phones: Mapping[str, str]
    attempts: Mapping[str, list[ContactAttempt]] = field(default_factory=dict)
    holds: Mapping[str, list[Hold]] = field(default_factory=dict)
    opt_outs: Mapping[str, list[OptOut]] = field(default_factory=dict)

    def facts(self, borrower_id: str) -> ContactFacts:
        """The compliance facts of one borrower."""
        zones, day_zone = self.zones[borrower_id]
        return ContactFacts(
            zones=zones, day_zone=day_zone,
            attempts=tuple(self.attempts.get(borrower_id, ())),
            holds=tuple(self.holds.get(borrower_id, ())),
            opt_outs=tuple(self.opt_outs.get(borrower_id, ())),
        )  # fmt: skip


def treatment_table(ladders: Mapping[str, Ladder]) -> pl.DataFrame:
    """Every treatment of every ladder as a row (ladder label, stage, day, repeat, arms)."""
    rows = [
        (ladder.label, stage.name, t.day, t.every, t.until,
         sorted(t.arms) if t.arms is not None else None, t.action, t.template)
        for ladder in {ladder.label: ladder for ladder in ladders.values()}.values()
        for stage in ladder.stages
        for t in stage.treatments
    ]  # fmt: skip
    schema = pl.Schema(
        [("ladder", pl.String), ("stage", pl.String), ("t_day", pl.Int64), ("every", pl.Int64),
         ("until", pl.Int64), ("arms", pl.List(pl.String)), ("action", pl.String),
         ("template", pl.String)]
    )  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def due_candidates(cases: pl.DataFrame, ladders: Mapping[str, Ladder], as_of: date) -> pl.DataFrame:
    """Treatments falling due today for each case (by the day of its stage and its arms).

    The vector form of Treatment.due_on: on its day, or every N days after it until `until`,
    for the arms it names (none named: every arm).
    """
    day = (pl.lit(as_of) - pl.col("entered_on")).dt.total_days()
    since = day - pl.col("t_day")
    repeats = pl.col("every").is_not_null() & (since > 0) & (since % pl.col("every") == 0)
    within = pl.col("until").is_null() | (day <= pl.col("until"))
    case_arms = pl.col("arm").str.split(";").list.eval(pl.element().str.split("=").list.last())
    arms_match = pl.col("arms").is_null() | (
        pl.col("arms").list.set_intersection(case_arms).list.len() > 0
    )
    joined = cases.join(treatment_table(ladders), on=["ladder", "stage"], how="inner")
    due = joined.filter(((since == 0) | (repeats & within)) & arms_match)
    return due.select("loan_id", "borrower_id", "stage", "ladder", "arm", "action", "template")


def plan_actions(
    candidates: pl.DataFrame,
    ladders_by_label: Mapping[str, Ladder],
    packs: Mapping[str, RulePack],
    jurisdiction_of: Mapping[str, str],
    people: People,
    history: Mapping[str, Sequence[ActionRecord]],
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Plan each candidate or block it, naming the rule; caps count what is planned too."""
    planned: list[dict[str, Any]] = []
    blocked: list[tuple[date, str, str, str, str]] = []
    extra: defaultdict[str, list[ContactAttempt]] = defaultdict(list)
    windows: dict[tuple[object, ...], tuple[datetime, datetime] | None] = {}
    for row in candidates.sort("borrower_id", "loan_id", "action").iter_rows(named=True):
        ladder = ladders_by_label[row["ladder"]]
        refusal = _guard(ladder, row, history.get(row["loan_id"], ()), as_of)
        channel = CHANNEL_OF[row["action"]]
        window: tuple[datetime, datetime] | None = None
        if refusal is None and channel is not None:
            pack = packs[jurisdiction_of[row["ladder"]]]
            refusal, window = _comply(row, channel, pack, people, extra, windows, as_of)
        if refusal is not None:
            blocked.extend(
                (as_of, row["loan_id"], row["action"], rule, detail) for rule, detail in refusal
            )
            continue
        planned.append(_plan_row(row, channel, window, as_of))
    plan = (
        pl.DataFrame(planned, schema=PLAN_SCHEMA) if planned else pl.DataFrame(schema=PLAN_SCHEMA)
    )
    gone = pl.DataFrame(blocked, schema=BLOCKED_SCHEMA, orient="row")
    return plan, gone.unique(["as_of", "loan_id", "action", "rule"], maintain_order=True)


def _guard(
    ladder: Ladder, row: Mapping[str, Any], history: Sequence[ActionRecord], as_of: date
) -> list[tuple[str, str]] | None:
    """The escalation guard's refusal of a heavy action, if any."""
    action = row["action"]
    if action not in GUARDED_ACTIONS and ladder.guard_for(action) is None:
        return None
    decision = check_escalation(ladder, action, history, as_of, stage=row["stage"])
    if decision.allowed:
        return None
    return [(f"escalation.{action}", "; ".join(decision.reasons))]


def _comply(
    row: Mapping[str, Any],
    channel: str,
    pack: RulePack,
    people: People,
    extra: defaultdict[str, list[ContactAttempt]],
    windows: dict[tuple[object, ...], tuple[datetime, datetime] | None],
    as_of: date,
) -> tuple[list[tuple[str, str]] | None, tuple[datetime, datetime] | None]:
    """The compliance engine's answer for a contact today, with its lawful window."""
    borrower = row["borrower_id"]
    facts = people.facts(borrower)
    facts = replace(facts, attempts=facts.attempts + tuple(extra[borrower]))
    # The window depends only on the zones, the channel and the pack: shared across borrowers.
    key = (pack.jurisdiction, facts.zones, facts.day_zone, channel)
    if key not in windows:
        windows[key] = lawful_window(as_of, facts.zones, pack, channel=channel,
                                     day_zone=facts.day_zone)  # fmt: skip
    window = windows[key]
    if window is None:
        quiet = [r.rule_id for r in pack.rules_for(channel) if r.kind == "quiet_hours"]
        return [(quiet[0] if quiet else "quiet_hours", "no lawful time today in every zone")], None
    # Decided at the window's last moment, so every attempt of the day so far counts.
    at = window[1] - timedelta(seconds=1)
    phone = people.phones.get(borrower)
    decision = decide_contact(ContactRequest(borrower, channel, at, phone), facts, pack)
    if not decision.allowed:
        return [(r.rule, r.detail) for r in decision.broken], None
    outcome = _PLANNED_OUTCOME.get(channel, "sent")
    extra[borrower].append(ContactAttempt(window[0], channel, phone, None, outcome))
    return None, window


def _plan_row(
    row: Mapping[str, Any],
    channel: str | None,
    window: tuple[datetime, datetime] | None,
    as_of: date,
) -> dict[str, Any]:
    key = f"{as_of}:{row['loan_id']}:{row['action']}:{row['template']}"
    return {
        "action_key": key, "loan_id": row["loan_id"], "borrower_id": row["borrower_id"],
        "action": row["action"], "channel": channel, "template": row["template"],
        "planned_for": as_of, "window_start": window[0] if window else None,
        "window_end": window[1] if window else None, "stage": row["stage"], "arm": row["arm"],
        "status": "planned", "outcome": None,
    }  # fmt: skip

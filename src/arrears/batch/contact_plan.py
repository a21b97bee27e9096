"""Today's planned actions: due treatments, escalation guards, then the compliance engine.

Every contact is planned only with a lawful send window in the borrower's local time and
only if, counting what is already done or planned that day, no cap is exceeded; anything a
rule refuses is recorded with the rule and counted. Candidates are checked in columns
(batch/contact_checks.py), a borrower's candidates one round at a time so that each counts
the contacts planned before it, exactly as the domain would decide them one by one.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC as UTC_ZONE
from datetime import date, datetime, timedelta
from typing import Protocol

import polars as pl

from arrears.batch.contact_checks import (
    ATTEMPT_SCHEMA,
    HOLD_SCHEMA,
    OPT_OUT_SCHEMA,
    UTC,
    ZONE_SEPARATOR,
    lookback_days,
    refusals,
    with_local_days,
)
from arrears.batch.refusal_details import refusal_details
from arrears.domain.compliance import lawful_window
from arrears.domain.escalation import GUARDED_ACTIONS, ActionRecord, check_escalation, done_since
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
PLANNED_OUTCOME = {"call": "connected", "visit": "connected"}
PLAN_SCHEMA = pl.Schema(
    [("action_key", pl.String), ("loan_id", pl.String), ("borrower_id", pl.String),
     ("action", pl.String), ("channel", pl.String), ("template", pl.String),
     ("planned_for", pl.Date), ("window_start", UTC), ("window_end", UTC),
     ("stage", pl.String), ("arm", pl.String), ("status", pl.String), ("outcome", pl.String)]
)  # fmt: skip
BLOCKED_SCHEMA = pl.Schema({
    "as_of": pl.Date, "loan_id": pl.String, "action": pl.String, "rule": pl.String,
    "detail": pl.String,
})  # fmt: skip
REACH_SCHEMA = pl.Schema({
    "borrower_id": pl.String, "jurisdiction": pl.String, "phone": pl.String, "zones": pl.String,
    "day_zone": pl.String,
})  # fmt: skip


class Reach(Protocol):
    """How borrowers are reached: their phone and the time zones they may be in, under each
    pack of their loans (every one governs a contact with them; the zones a number gives and
    the zone days count in may differ by pack, each taking its own default zone)."""

    def of(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """One row per known borrower asked for and jurisdiction of their loans (REACH_SCHEMA):
        zones joined by commas; the day zone is the one whose calendar days the pack's daily
        limits count."""
        ...


@dataclass(frozen=True)
class FrameReach:
    """A Reach over a frame already holding every borrower's zones (REACH_SCHEMA)."""

    frame: pl.DataFrame

    def of(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """The rows of the borrowers asked for."""
        wanted = pl.DataFrame({"borrower_id": borrower_ids.unique()})
        return self.frame.join(wanted, on="borrower_id", how="semi")


class ActionHistory(Protocol):
    """What was done on loans (calls and their outcomes, actions carried out): the guards'
    history, asked once a night for the loans with a guarded action due."""

    def of(self, loan_ids: Sequence[str]) -> Mapping[str, Sequence[ActionRecord]]:
        """Each loan's records (loans without any may be left out)."""
        ...


@dataclass(frozen=True)
class KnownHistory:
    """An ActionHistory over records already in memory."""

    records: Mapping[str, Sequence[ActionRecord]]

    def of(self, loan_ids: Sequence[str]) -> Mapping[str, Sequence[ActionRecord]]:
        """The records of the loans asked for."""
        return {loan: self.records[loan] for loan in loan_ids if loan in self.records}


@dataclass(frozen=True)
class People:
    """What the planner knows of borrowers: how to reach them, their attempts (in any order),
    holds and opt-outs (contact_checks' schemas)."""

    reach: Reach
    attempts: pl.DataFrame
    holds: pl.DataFrame
    opt_outs: pl.DataFrame

    @classmethod
    def of_frames(
        cls,
        reach: Reach,
        attempts: pl.DataFrame | None = None,
        holds: pl.DataFrame | None = None,
        opt_outs: pl.DataFrame | None = None,
    ) -> "People":
        """People from frames (absent ones empty)."""

        def typed(frame: pl.DataFrame | None, schema: pl.Schema) -> pl.DataFrame:
            if frame is None:
                return pl.DataFrame(schema=schema)
            return frame.select(list(schema)).cast(schema)

        return cls(reach, typed(attempts, ATTEMPT_SCHEMA), typed(holds, HOLD_SCHEMA),
                   typed(opt_outs, OPT_OUT_SCHEMA))  # fmt: skip


def treatment_table(ladders: Mapping[str, Ladder]) -> pl.DataFrame:
    """Every treatment of every ladder as a row (ladder label, stage, day, repeat, arms)."""
    rows = [
        (ladder.label, stage.name, t.day, t.every, t.until,
         sorted(t.arms) if t.arms is not None else None, t.action, t.template, t.until_done,
         t.when_done)
        for ladder in {ladder.label: ladder for ladder in ladders.values()}.values()
        for stage in ladder.stages
        for t in stage.treatments
    ]  # fmt: skip
    schema = pl.Schema(
        [("ladder", pl.String), ("stage", pl.String), ("t_day", pl.Int64), ("every", pl.Int64),
         ("until", pl.Int64), ("arms", pl.List(pl.String)), ("action", pl.String),
         ("template", pl.String), ("until_done", pl.Boolean), ("when_done", pl.String)]
    )  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


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
    table = treatment_table(ladders)
    # Only cases in a stage with treatments can have one due: the rest (most of a book, in
    # no stage or one without treatments) are dropped by stage name before the join, which
    # carries the case's row number rather than its strings (gathered for the due ones only).
    named = sorted(table.get_column("stage").unique().to_list())
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
    rules = _rules_by_arm(table, staged.get_column("arm").unique())
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
    due = pl.concat(
        [
            names.select(pl.all().gather(hits.get_column("case"))),
            rules.select(
                pl.col(*keys, "action", "template", "until_done", "when_done").gather(
                    hits.get_column("rule")
                )
            ),
            hits.select("entered_on"),
        ],
        how="horizontal",
    )
    due = _not_done_yet(due, history or KnownHistory({}))
    return due.select("loan_id", "borrower_id", "stage", "ladder", "arm", "action", "template")


def _rules_by_arm(table: pl.DataFrame, arms: pl.Series) -> pl.DataFrame:
    """The treatments (`table`) with each case arm (`arms`, the cases' distinct ones) they are
    for, numbered `rule`: an arm is matched once here, not once per case."""
    case_arms = pl.col("arm").str.split(";").list.eval(pl.element().str.split("=").list.last())
    arms_match = pl.col("arms").is_null() | (
        pl.col("arms").list.set_intersection(case_arms).list.len() > 0
    )
    crossed = table.join(pl.DataFrame({"arm": arms.cast(pl.String)}), how="cross")
    return crossed.filter(arms_match).with_row_index("rule")


def _not_done_yet(due: pl.DataFrame, history: ActionHistory) -> pl.DataFrame:
    """`due` without the treatments the loan's record rules out: an until_done one whose action
    is on record as done since the case entered its stage, a when_done one whose prerequisite
    is not on record as done (escalation.done_since)."""
    conditional = pl.col("until_done") | pl.col("when_done").is_not_null()
    asked = due.filter(conditional)
    if asked.height == 0:
        return due
    records = history.of(asked.get_column("loan_id").unique().sort().to_list())
    keep = [
        not (until_done and action in done_since(records.get(loan_id, ()), entered_on))
        and (when is None or when in done_since(records.get(loan_id, ()), date.min))
        for loan_id, action, entered_on, until_done, when in asked.select(
            "loan_id", "action", "entered_on", "until_done", "when_done"
        ).iter_rows()
    ]
    return pl.concat([due.filter(~conditional), asked.filter(pl.Series(keep, dtype=pl.Boolean))])


def plan_actions(
    candidates: pl.DataFrame,
    ladders_by_label: Mapping[str, Ladder],
    packs: Mapping[str, RulePack],
    jurisdiction_of: Mapping[str, str],
    people: People,
    history: ActionHistory | Mapping[str, Sequence[ActionRecord]],
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Plan each candidate or block it, naming the rule; caps count what is planned too."""
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
    blocked = [_guard_refusals(cands, ladders_by_label, history, as_of)]
    # Only what the checks read goes on: the plan takes the windows back by req.
    asked = cands.select("req", "borrower_id", "jurisdiction", "channel")
    contacts = _with_windows(
        asked.join(blocked[0].select("req"), on="req", how="anti").filter(
            pl.col("channel").is_not_null()
        ),
        people.reach, packs, as_of,
    )  # fmt: skip
    blocked.append(_closed(contacts.filter(pl.col("window_end").is_null())))
    refused = _refuse_in_rounds(contacts.filter(pl.col("window_end").is_not_null()), people,
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


def _with_windows(
    contacts: pl.DataFrame, reach: Reach, packs: Mapping[str, RulePack], as_of: date
) -> pl.DataFrame:
    """Contacts once per pack of their borrower's loans, each row with the borrower's phone,
    zones and day zone under that pack, the pack's own lawful window of the channel
    (`pack_end`: null when none) and its quiet rule; and the contact's window, the times every
    one of its packs allows (`window_start`, `window_end`: null when they share none), with
    the instant it is decided at and that instant's local day in each row's day zone (`at`,
    `day`). The windows are worked out once per pack, zones and channel, being shared by
    every borrower alike."""
    if contacts.height == 0:
        empty = pl.DataFrame(schema=REACH_SCHEMA).drop("borrower_id", "jurisdiction")
        return contacts.with_columns(
            *(pl.lit(None, t).alias(n) for n, t in empty.schema.items()),
            pl.lit(None, UTC).alias("window_start"), pl.lit(None, UTC).alias("window_end"),
            pl.lit(None, UTC).alias("pack_end"), pl.lit(None, pl.String).alias("quiet_rule"),
            pl.lit(None, UTC).alias("at"), pl.lit(None, pl.Date).alias("day"),
        )  # fmt: skip
    reached = contacts.rename({"jurisdiction": "own"}).join(
        reach.of(contacts.get_column("borrower_id")), on="borrower_id", how="left"
    )
    missing = reached.filter(pl.col("zones").is_null())
    if missing.height:
        raise KeyError(f"no phone or zone for borrower {missing.item(0, 'borrower_id')!r}")
    single = reached.height == contacts.height
    if not (single and reached.select((pl.col("own") == pl.col("jurisdiction")).all()).item()):
        _check_own_pack(reached)
    keys = reached.select("jurisdiction", "zones", "day_zone", "channel").unique()
    rows = []
    for jurisdiction, zones, day_zone, channel in keys.iter_rows():
        pack = packs[jurisdiction]
        window = lawful_window(as_of, tuple(zones.split(ZONE_SEPARATOR)), pack,
                               channel=channel, day_zone=day_zone)  # fmt: skip
        quiet = [r.rule_id for r in pack.rules_for(channel) if r.kind == "quiet_hours"]
        start, end = (t.astimezone(UTC_ZONE) for t in window) if window else (None, None)
        rows.append((jurisdiction, zones, day_zone, channel, start, end,
                     quiet[0] if quiet else "quiet_hours"))  # fmt: skip
    schema = pl.Schema({"jurisdiction": pl.String(), "zones": pl.String(),
                        "day_zone": pl.String(), "channel": pl.String(), "window_start": UTC,
                        "window_end": UTC, "quiet_rule": pl.String()})  # fmt: skip
    windows = pl.DataFrame(rows, schema=schema, orient="row")
    # Decided at the window's last moment, so every attempt of the day so far counts.
    windows = windows.with_columns((pl.col("window_end") - pl.duration(seconds=1)).alias("at"))
    windows = windows.with_columns(_local_day(windows).alias("day"))
    joined = reached.drop("own").join(
        windows, on=["jurisdiction", "zones", "day_zone", "channel"], how="left"
    )
    if single:  # one pack per contact (a book of one jurisdiction): its window is the pack's
        return joined.with_columns(pl.col("window_end").alias("pack_end"))
    return _within_every_pack(joined)


def _check_own_pack(reached: pl.DataFrame) -> None:
    """KeyError unless each contact's own pack (`own`, its loan's) is among its rows' packs:
    the reach of a borrower holds every pack of their loans."""
    lost = (
        reached.group_by("req")
        .agg(
            pl.first("borrower_id", "own"),
            (pl.col("jurisdiction") == pl.col("own")).any().alias("in"),
        )
        .filter(~pl.col("in"))
    )
    if lost.height:
        borrower, own = lost.sort("req").row(0)[1:3]
        raise KeyError(f"no zones for borrower {borrower!r} under {own!r}, their loan's pack")


def _within_every_pack(rows: pl.DataFrame) -> pl.DataFrame:
    """Each contact's rows (one per pack) with the window all its packs allow, decided at its
    last moment (`at`), and that instant's local day in each row's own day zone."""
    shared = rows.group_by("req").agg(
        pl.col("window_start").max().alias("start"), pl.col("window_end").min().alias("end"),
        pl.col("window_end").null_count().alias("closed"),
    )  # fmt: skip
    meet = (pl.col("closed") == 0) & (pl.col("start") < pl.col("end"))
    shared = shared.select(
        "req",
        pl.when(meet).then("start").alias("window_start"),
        pl.when(meet).then("end").alias("window_end"),
    )
    joined = (
        rows.rename({"window_end": "pack_end"})
        .drop("window_start", "at", "day")
        .join(shared, on="req", how="left")
    )
    joined = joined.with_columns((pl.col("window_end") - pl.duration(seconds=1)).alias("at"))
    return joined.with_columns(_local_day(joined).alias("day"))


def _closed(contacts: pl.DataFrame) -> pl.DataFrame:
    """(req, rule, detail) for contacts with no time today that every pack allows: the quiet
    rule of each pack with no lawful time of its own, or of every pack when each has some
    but they do not meet."""
    alone = pl.col("pack_end").is_null()
    named = contacts.filter(alone | ~alone.any().over("req"))
    return named.select(
        "req", pl.col("quiet_rule").alias("rule"),
        pl.when(alone).then(pl.lit("no lawful time today in every zone"))
        .otherwise(pl.lit("no time today is lawful under every pack of the borrower's loans"))
        .alias("detail"),
    )  # fmt: skip


def _refuse_in_rounds(
    contacts: pl.DataFrame, people: People, packs: Mapping[str, RulePack]
) -> pl.DataFrame:
    """(req, rule, detail) for contacts a rule refuses, deciding each party's contacts in
    order: round k checks every party's k-th contact, counting the ones planned before.

    A party is a borrower, or the borrowers who share a number (its dial cap counts every
    call to it). `req` numbers each borrower's contacts one after another (plan_actions sorts
    candidates by borrower first); a contact has a row per pack of its borrower's loans, each
    decided under its pack (all must allow); `at` and `day` are when each is decided and its
    local day in the row's day zone.
    """
    schema = {"req": pl.UInt32, "rule": pl.String, "detail": pl.String}
    if contacts.height == 0:
        return pl.DataFrame(schema=schema)
    requests = _in_rounds(contacts)
    first = requests.filter(pl.col("round") == 0)  # one contact per party
    # Each borrower asked about, with the number their contacts dial and each zone their
    # packs count days in.
    several = requests.height > requests.get_column("contact").n_unique()  # a row per pack
    in_party = pl.col("party").is_not_null()
    pooled = requests.filter(in_party).select("borrower_id", "phone", "day_zone").unique()
    asked = first.select("borrower_id", "phone", "day_zone")
    if pooled.height:  # a party's first contact is one borrower's: the others' too
        asked = pl.concat([first.filter(~in_party).select(asked.columns), pooled])
    if several:
        asked = asked.unique()
    # Only the attempts of the days a counting rule of the contacts' packs looks back over (a
    # day's margin for the zones), each with its local day in each day zone the borrower's
    # packs count in, worked out once for every round; and other borrowers' calls to the
    # numbers dialled, which only the dial cap counts (`shared`).
    oldest = requests.get_column("at").min()
    assert isinstance(oldest, datetime)
    present = requests.get_column("jurisdiction").unique().to_list()
    since = oldest - timedelta(days=lookback_days({j: packs[j] for j in present}) + 1)
    recent = people.attempts.filter(pl.col("at") >= since)
    # The dial cap counts one local day on its channels: other borrowers' attempts of the
    # last two days on those will do (none for packs without a dial cap).
    dialled = sorted(
        {
            c
            for j in present
            for r in packs[j].rules
            if r.kind == "dials_per_number_per_day"
            for c in r.counted_channels
        }
    )
    today = recent.filter(
        (pl.col("at") >= oldest - timedelta(days=2)) & pl.col("channel").is_in(dialled)
    )  # fmt: skip
    so_far = pl.concat([
        with_local_days(recent, asked.drop("phone")).with_columns(pl.lit(False).alias("shared")),
        _dialled_by_others(today, asked),
    ])  # fmt: skip
    if not several:  # one day zone per borrower: the attempts are matched by borrower alone
        so_far = so_far.drop("day_zone")
    holds, opt_outs = people.holds, people.opt_outs
    last = requests.get_column("round").max()
    assert isinstance(last, int)
    rest = requests.filter(pl.col("round") > 0)
    refused: list[pl.DataFrame] = []
    for k in range(last + 1):
        batch = first if k == 0 else rest.filter(pl.col("round") == k)
        if k:
            # Parties without a k-th contact are decided: the others' facts suffice.
            deciding = pl.col("borrower_id").is_in(_of_parties(batch, requests).implode())
            so_far, holds, opt_outs = (f.filter(deciding) for f in (so_far, holds, opt_outs))
        found = refusals(batch, so_far, holds, opt_outs, packs)
        if found.height:
            details = refusal_details(batch, found, so_far, holds, opt_outs, packs)
            refused.append(_by_contact(details, batch))
        # A contact planned counts only against its party's later contacts, if any, once in
        # each day zone its packs count days in.
        allowed = batch.filter(pl.col("more")).join(
            found.join(batch.select("req", "contact"), on="req").select("contact"),
            on="contact", how="anti",
        )  # fmt: skip
        if allowed.height > allowed.get_column("contact").n_unique():
            allowed = allowed.unique(["contact", "day_zone"], maintain_order=True)
        planned = allowed.select(
            "borrower_id", pl.col("window_start").alias("at"), "channel",
            pl.col("phone").alias("to_phone"), pl.lit(None, pl.String).alias("contact_id"),
            pl.col("channel").replace_strict(PLANNED_OUTCOME, default="sent").alias("outcome"),
        )  # fmt: skip
        zoned = ["day_zone"] if several else []
        mine = pl.concat(
            [planned, allowed.select(*zoned, pl.col("day").alias("a_day"))], how="horizontal"
        )
        parts = [so_far, mine.with_columns(pl.lit(False).alias("shared"))]
        if pooled.height:  # a planned call to a shared number counts for the others too
            # Once per call (`allowed` has a row per day zone of its borrower's packs).
            calls = pl.concat([planned, allowed.select("contact", "party")], how="horizontal")
            calls = calls.filter(pl.col("party").is_not_null()).unique("contact")
            theirs = _dialled_by_others(calls.drop("contact", "party"), pooled)
            parts.append(theirs if several else theirs.drop("day_zone"))
        so_far = pl.concat(parts)
    return pl.concat(refused) if refused else pl.DataFrame(schema=schema)


def _dialled_by_others(attempts: pl.DataFrame, asked: pl.DataFrame) -> pl.DataFrame:
    """Attempts to a number another borrower asked about dials (`asked`: borrower_id, phone,
    day_zone), as that borrower's with `shared` set: only the dial cap counts them, with its
    local day in each of that borrower's day zones (`a_day`, `day_zone`)."""
    theirs = attempts.join(
        asked.rename({"borrower_id": "asker"}), left_on="to_phone", right_on="phone", how="inner"
    ).filter(pl.col("borrower_id") != pl.col("asker"))
    theirs = theirs.drop("borrower_id").rename({"asker": "borrower_id"})
    dated = theirs.with_columns(_local_day(theirs).alias("a_day"))
    return dated.select(*ATTEMPT_SCHEMA, "day_zone", "a_day", pl.lit(True).alias("shared"))


def _of_parties(batch: pl.DataFrame, requests: pl.DataFrame) -> pl.Series:
    """The borrowers of the parties deciding a contact in `batch`."""
    pooled = batch.filter(pl.col("party").is_not_null())
    if pooled.height == 0:
        return batch.get_column("borrower_id")
    members = requests.filter(pl.col("party").is_in(pooled.get_column("party").implode()))
    return pl.concat([batch.get_column("borrower_id"), members.get_column("borrower_id")])


def _in_rounds(contacts: pl.DataFrame) -> pl.DataFrame:
    """The contacts' rows, each keyed by its own `req` (the contact's is `contact`), with the
    contact's `round` (its place among its party's) and `more` (another follows), and `party`:
    the number, for borrowers who share the number their contacts dial (null: a borrower of
    their own)."""
    several = contacts.height > contacts.get_column("req").n_unique()
    rows = contacts.sort(["req", "jurisdiction"] if several else "req").rename({"req": "contact"})
    rows = rows.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("req"))
    heads = rows
    if several:
        heads = rows.filter((pl.col("contact") != pl.col("contact").shift(1)).fill_null(True))
    starts = (pl.col("borrower_id") != pl.col("borrower_id").shift(1)).fill_null(True)
    owners = heads.filter(starts).select("borrower_id", "phone")
    # By the number's hash (half the time of its text): a collision only makes a borrower a
    # party of their own number, decided as one alone would be.
    sharing = owners.filter(pl.col("phone").hash().is_duplicated()).get_column("borrower_id")
    placed = _placed(heads.select("contact", pl.col("borrower_id").alias("key")))
    party = pl.repeat(None, heads.height, dtype=pl.String, eager=True).alias("party")
    if sharing.len():
        # The few contacts of borrowers who share a number, placed by number, then put back.
        pooled = heads.with_row_index("place").filter(
            pl.col("borrower_id").is_in(sharing.implode())
        )
        pooled = pooled.sort("phone", "contact")
        again = _placed(pooled.select("contact", pl.col("phone").alias("key")))
        place = pooled.get_column("place")
        placed = placed.with_columns(
            placed.get_column(name).scatter(place, again.get_column(name))
            for name in ("round", "more")
        )
        party = party.scatter(place, pooled.get_column("phone"))
    placed = placed.with_columns(party)
    if not several:
        return rows.with_columns(*placed.drop("contact").get_columns())
    return rows.join(placed, on="contact", how="left", maintain_order="left")


def _placed(heads: pl.DataFrame) -> pl.DataFrame:
    """(contact, round, more) of contacts in order, each run of one `key` a party's: a
    contact's round is its place in the run and `more` tells whether another follows, with no
    grouping by key."""
    row = pl.int_range(pl.len(), dtype=pl.UInt32)
    starts = (pl.col("key") != pl.col("key").shift(1)).fill_null(True)
    return heads.select(
        "contact",
        (row - pl.when(starts).then(row).forward_fill()).alias("round"),
        (pl.col("key") == pl.col("key").shift(-1)).fill_null(False).alias("more"),
    )


def _by_contact(details: pl.DataFrame, batch: pl.DataFrame) -> pl.DataFrame:
    """Refusals keyed by their row's contact (the plan's req), not the row."""
    keyed = details.join(batch.select("req", "contact"), on="req", how="left",
                         maintain_order="left")  # fmt: skip
    return keyed.select(pl.col("contact").alias("req"), "rule", "detail")


def _local_day(windows: pl.DataFrame) -> pl.Series:
    """Each row's calendar day at `at` in its day zone (the day the daily limits count)."""
    out = pl.Series("day", [None] * windows.height, dtype=pl.Date)
    for zone in windows.get_column("day_zone").unique().to_list():
        mask = windows.get_column("day_zone") == zone
        days = windows.filter(mask).get_column("at").dt.convert_time_zone(zone).dt.date()
        out = out.scatter(mask.arg_true(), days)
    return out


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

"""The compliance engine's rules as columns, for contacts the planner makes to borrowers.

Each rule kind of `domain/contact_rules.py` that can refuse a contact to the borrower has its
column form here, so a night's plan checks every candidate at once instead of one by one. The
domain stays the reference: tests/batch/test_contact_checks.py checks that both give the same
verdicts on random histories. For a contact to the borrower (not a third party) the third-party
kinds and `registered_contacts_only` always pass, and `quiet_hours` is met by planning inside
the lawful window; a kind this module does not know makes it refuse to answer.
"""

from collections.abc import Mapping

import polars as pl

from arrears.domain.contact import INBOUND
from arrears.domain.rule_pack import ContactRule, RulePack

UTC = pl.Datetime("us", "UTC")
ZONE_SEPARATOR = ","  # a number's zones in one cell, in the order the number gives them
# One row per contact to decide: who, how, at which instant, on which local day of which zone.
REQUEST_SCHEMA = pl.Schema({
    "req": pl.UInt32(), "borrower_id": pl.String(), "jurisdiction": pl.String(),
    "channel": pl.String(), "at": UTC, "day": pl.Date(), "day_zone": pl.String(),
    "phone": pl.String(), "zones": pl.String(),  # the borrower's, joined by ZONE_SEPARATOR
})  # fmt: skip
ATTEMPT_SCHEMA = pl.Schema({
    "borrower_id": pl.String(), "at": UTC, "channel": pl.String(), "to_phone": pl.String(),
    "contact_id": pl.String(), "outcome": pl.String(),
})  # fmt: skip
HOLD_SCHEMA = pl.Schema(
    {"borrower_id": pl.String(), "kind": pl.String(), "starts_on": pl.Date(), "ends_on": pl.Date()}
)
OPT_OUT_SCHEMA = pl.Schema({"borrower_id": pl.String(), "channel": pl.String(), "since": UTC})
REFUSAL_SCHEMA = pl.Schema({"req": pl.UInt32, "rule": pl.String, "kind": pl.String})
# Kinds that never refuse a contact to the borrower made inside the lawful window.
PASS_FOR_BORROWER = frozenset(
    {"quiet_hours", "third_party_unreachable", "third_party_refused", "third_party_once",
     "registered_contacts_only"}
)  # fmt: skip
COUNTING = frozenset(
    {"connected_per_day", "dials_per_number_per_day", "attempts_in_days", "after_conversation"}
)
KNOWN_KINDS = PASS_FOR_BORROWER | COUNTING | {"hold", "opt_out"}


def refusals(
    requests: pl.DataFrame,
    attempts: pl.DataFrame,
    holds: pl.DataFrame,
    opt_outs: pl.DataFrame,
    packs: Mapping[str, RulePack],
) -> pl.DataFrame:
    """Every (request, rule) where the rule refuses the request; a request not listed is allowed.

    `attempts` are the attempts made (and planned) so far; only those at or before a request's
    instant count, as in the domain's Scene.
    """
    for pack in packs.values():
        unknown = sorted({r.kind for r in pack.rules} - KNOWN_KINDS)
        if unknown:
            raise NotImplementedError(f"no column form for contact rule kinds {unknown}")
    # A pack's rules govern only the requests under it: the packs of none are left out.
    present = set(requests.get_column("jurisdiction").unique().to_list())
    mine = {j: pack for j, pack in packs.items() if j in present}
    parts = [
        _counted(requests, attempts, mine),
        _held(requests, holds, mine),
        _opted_out(requests, opt_outs, mine),
    ]
    found = pl.concat([p.select(list(REFUSAL_SCHEMA)) for p in parts])
    return found.unique(maintain_order=True).sort("req", maintain_order=True)


def _rules(packs: Mapping[str, RulePack], kinds: frozenset[str]) -> list[tuple[str, ContactRule]]:
    """(jurisdiction, rule) for every rule of the given kinds, in pack order."""
    return [(j, rule) for j, pack in packs.items() for rule in pack.rules if rule.kind in kinds]


def _applies(jurisdiction: str, rule: ContactRule) -> pl.Expr:
    """The rule governs the request: its pack and one of its channels."""
    return (pl.col("jurisdiction") == jurisdiction) & pl.col("channel").is_in(sorted(rule.channels))


def _counted(
    requests: pl.DataFrame, attempts: pl.DataFrame, packs: Mapping[str, RulePack]
) -> pl.DataFrame:
    """Refusals of the counting kinds: attempts on the rule's local days, against its limit."""
    rules = _rules(packs, COUNTING)
    if not rules or requests.height == 0:
        return pl.DataFrame(schema=REFUSAL_SCHEMA)
    pairs = _prior_pairs(requests, attempts)
    talks = [rule for _, rule in rules if rule.kind == "after_conversation"]
    if talks:
        pairs = pairs.with_columns(_days_apart(pairs, talks).alias("apart"))
    counts = [
        _count_expr(rule, "shared" in pairs.columns).filter(_applies(j, rule)).sum().alias(f"n{i}")
        for i, (j, rule) in enumerate(rules)
    ]
    totals = requests.select("req", "jurisdiction", "channel").join(
        pairs.group_by("req").agg(counts), on="req", how="left"
    )
    out = []
    for i, (j, rule) in enumerate(rules):
        done = pl.col(f"n{i}").fill_null(0)
        limit = 1 if rule.kind == "after_conversation" else rule.limit
        refused = totals.filter(_applies(j, rule) & (done >= limit))
        out.append(refused.select("req", pl.lit(rule.rule_id).alias("rule"),
                                  pl.lit(rule.kind).alias("kind")))  # fmt: skip
    return pl.concat(out)


def lookback_days(packs: Mapping[str, RulePack]) -> int:
    """The most local days any counting rule looks back over (today included)."""
    return max((r.days or 1 for _, r in _rules(packs, COUNTING)), default=1)


def with_local_days(attempts: pl.DataFrame, day_zones: pl.DataFrame) -> pl.DataFrame:
    """Attempts with `a_day`, their local day in each day zone of their borrower (`day_zones`:
    borrower_id, day_zone, a row for each zone a pack of theirs counts days in; other
    borrowers' attempts are left out), worked out once for every round of a night's checks:
    an attempt comes once per zone, with it (`day_zone`)."""
    zoned = attempts.join(day_zones, on="borrower_id", how="inner")
    parts = [
        zoned.filter(pl.col("day_zone") == zone).with_columns(
            pl.col("at").dt.convert_time_zone(zone).dt.date().alias("a_day")
        )
        for zone in zoned.get_column("day_zone").unique().to_list()
    ]
    if not parts:
        return zoned.with_columns(pl.lit(None, pl.Date).alias("a_day"))
    return pl.concat(parts)


def _prior_pairs(requests: pl.DataFrame, attempts: pl.DataFrame) -> pl.DataFrame:
    """Each request with each attempt of its borrower made at or before it, and that attempt's
    local day in the request's day zone (`a_day`: given with its `day_zone`, or worked out
    here)."""
    keys = ["borrower_id", "day_zone"] if "day_zone" in attempts.columns else "borrower_id"
    prior = pl.col("a_at") <= pl.col("at")
    if "planned_in" in attempts.columns:
        # A contact planned tonight counts only for its party's contacts of later rounds
        # (batch/plan_rounds.py; null: an attempt on record).
        prior &= pl.col("planned_in").is_null() | (pl.col("planned_in") < pl.col("round"))
    pairs = requests.join(
        attempts.rename({"at": "a_at", "channel": "a_channel"}), on=keys, how="inner"
    ).filter(prior)
    if "a_day" in pairs.columns:
        return pairs
    parts = [
        pairs.filter(pl.col("day_zone") == zone).with_columns(
            pl.col("a_at").dt.convert_time_zone(zone).dt.date().alias("a_day")
        )
        for zone in pairs.get_column("day_zone").unique().to_list()
    ]
    if not parts:
        return pairs.with_columns(pl.lit(None, pl.Date).alias("a_day"))
    return pl.concat(parts)


def _days_apart(pairs: pl.DataFrame, talks: list[ContactRule]) -> pl.Series:
    """Per (request, attempt) pair: the fewest local days from the attempt to the request in
    any zone the borrower may be in (`zones`, and the day zone), as the domain's
    after_conversation counts them (contact_rules._days_apart), for the pairs where it can
    change what the `talks` rules find: a borrower of several zones, a conversation on one of
    their channels, its day just past their days in the day zone (zones' days differ by two
    at most). The others keep their day zone's days (`day`, `a_day`)."""
    apart = pairs.select((pl.col("day") - pl.col("a_day")).dt.total_days()).to_series()
    outcomes = sorted({o for rule in talks for o in rule.outcomes})
    channels = sorted({c for rule in talks for c in rule.counted_channels})
    near = min(rule.days or 1 for rule in talks), max(rule.days or 1 for rule in talks) + 2
    several = (
        pairs.select("at", "a_at", "zones", "day_zone", "outcome", "a_channel")
        .with_columns(apart.alias("n"))
        .with_row_index("i")
        .filter((pl.col("zones") != pl.col("day_zone")) & pl.col("outcome").is_in(outcomes)
                & pl.col("a_channel").is_in(channels) & pl.col("n").is_between(*near))
    )  # fmt: skip
    if several.height == 0:
        return apart
    # The instants once per zone set (a toll-free number's 42 zones are one set), each set's
    # zones once: a pass per zone over its own rows.
    instants = several.select("at", "a_at", "zones").unique()
    each = instants.with_columns(pl.col("zones").str.split(ZONE_SEPARATOR).alias("zone"))
    by_zone = each.explode("zone").partition_by("zone", as_dict=True)
    days = pl.concat([
        rows.select(
            "at", "a_at", "zones",
            (pl.col("at").dt.convert_time_zone(name).dt.date()
             - pl.col("a_at").dt.convert_time_zone(name).dt.date()).dt.total_days().alias("n"),
        )
        for (name,), rows in by_zone.items()
    ]).group_by("at", "a_at", "zones").agg(pl.col("n").min())  # fmt: skip
    found = several.select("i", "at", "a_at", "zones").join(
        days, on=["at", "a_at", "zones"], how="inner"
    )
    at = found.get_column("i")
    least = pl.DataFrame({"a": apart.gather(at), "n": found.get_column("n")}).min_horizontal()
    return apart.scatter(at, least)


def _count_expr(rule: ContactRule, shared: bool) -> pl.Expr:
    """Whether a (request, attempt) pair counts for the rule (domain: Scene.counted + kind);
    when `shared`, the attempts say whether they are other borrowers' to the number dialled,
    which only the dial cap counts."""
    days = 1 if rule.kind in ("connected_per_day", "dials_per_number_per_day") else rule.days
    assert days is not None
    first = pl.col("day") - pl.duration(days=days - 1)
    counted = pl.col("a_channel").is_in(sorted(rule.counted_channels)) & pl.col("a_day").is_between(
        first, pl.col("day")
    )
    if rule.kind in ("dials_per_number_per_day", "attempts_in_days"):
        # Calls made by the collector only: one the person made (inbound) dialled nothing and
        # is no call attempt (domain: ContactAttempt.placed).
        counted &= pl.col("outcome") != INBOUND
    if rule.kind == "connected_per_day":
        counted &= pl.col("contact_id").is_null() & pl.col("outcome").is_in(sorted(rule.outcomes))
    elif rule.kind == "dials_per_number_per_day":
        # To the request's number; with no number, to the same person (the borrower). An
        # attempt on record without its number was to the borrower, when it names no contact.
        borrowers = pl.col("contact_id").is_null()
        counted &= (
            pl.when(pl.col("phone").is_null())
            .then(borrowers)
            .otherwise((pl.col("to_phone") == pl.col("phone"))
                       | (pl.col("to_phone").is_null() & borrowers))
        ).fill_null(False)  # fmt: skip
    elif rule.kind == "after_conversation":
        # In any zone of the borrower's (`apart`), not the day zone's alone.
        counted = (pl.col("a_channel").is_in(sorted(rule.counted_channels))
                   & pl.col("outcome").is_in(sorted(rule.outcomes))
                   & (pl.col("apart") < days))  # fmt: skip
    if shared and rule.kind != "dials_per_number_per_day":
        counted &= ~pl.col("shared")
    return counted


def _held(
    requests: pl.DataFrame, holds: pl.DataFrame, packs: Mapping[str, RulePack]
) -> pl.DataFrame:
    """Refusals of `hold` rules: a hold of the rule's kinds covers the request's local day."""
    rules = _rules(packs, frozenset({"hold"}))
    if not rules or holds.height == 0:
        return pl.DataFrame(schema=REFUSAL_SCHEMA)
    active = (pl.col("starts_on") <= pl.col("day")) & (
        pl.col("ends_on").is_null() | (pl.col("day") <= pl.col("ends_on"))
    )
    pairs = requests.join(holds, on="borrower_id", how="inner").filter(active)
    return pl.concat(
        pairs.filter(_applies(j, rule) & pl.col("kind").is_in(sorted(rule.hold_kinds))).select(
            "req", pl.lit(rule.rule_id).alias("rule"), pl.lit(rule.kind).alias("kind")
        )
        for j, rule in rules
    )


def _opted_out(
    requests: pl.DataFrame, opt_outs: pl.DataFrame, packs: Mapping[str, RulePack]
) -> pl.DataFrame:
    """Refusals of `opt_out` rules: the borrower opted out of the channel by the instant."""
    rules = _rules(packs, frozenset({"opt_out"}))
    if not rules or opt_outs.height == 0:
        return pl.DataFrame(schema=REFUSAL_SCHEMA)
    pairs = requests.join(
        opt_outs.rename({"channel": "o_channel"}), on="borrower_id", how="inner"
    ).filter((pl.col("o_channel") == pl.col("channel")) & (pl.col("since") <= pl.col("at")))
    return pl.concat(
        pairs.filter(_applies(j, rule)).select(
            "req", pl.lit(rule.rule_id).alias("rule"), pl.lit(rule.kind).alias("kind")
        )
        for j, rule in rules
    )

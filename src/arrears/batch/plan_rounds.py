"""The caps decided in rounds: each party's contacts one after another, each counting the
contacts planned before it, exactly as the domain would decide them one by one."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from arrears.batch.contact_checks import (
    ATTEMPT_SCHEMA,
    COUNTING,
    lookback_days,
    refusals,
    with_local_days,
)
from arrears.batch.plan_people import People
from arrears.batch.plan_windows import local_day
from arrears.batch.refusal_details import refusal_details
from arrears.domain.rule_pack import RulePack

# How a planned, not yet made, contact counts against the caps: as the costliest outcome.
PLANNED_OUTCOME = {"call": "connected", "visit": "connected"}


def refuse_in_rounds(
    contacts: pl.DataFrame, people: People, packs: Mapping[str, RulePack]
) -> pl.DataFrame:
    """(req, rule, detail) for contacts a rule refuses, deciding each party's contacts in
    order: round k checks every party's k-th contact, counting the ones planned before (the
    rounds after the first all at once when that changes nothing: each round is some forty
    small operations, whatever its size).

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
    # `planned_in`: the round of a contact planned tonight (null: an attempt on record); it
    # counts only for its party's contacts of later rounds (contact_checks._prior_pairs).
    recorded = pl.lit(None, pl.UInt32).alias("planned_in")
    so_far = pl.concat([
        with_local_days(recent, asked.drop("phone")).with_columns(
            pl.lit(False).alias("shared"), recorded
        ),
        _dialled_by_others(today.with_columns(recorded), asked),
    ])  # fmt: skip
    if not several:  # one day zone per borrower: the attempts are matched by borrower alone
        so_far = so_far.drop("day_zone")
    holds, opt_outs = people.holds, people.opt_outs
    rounds = _Rounds(packs, several, pooled, [])
    so_far = _decided(first, so_far, holds, opt_outs, rounds)
    rest = requests.filter(pl.col("round") > 0)
    if rest.height:
        _decide_later(rest, requests, so_far, holds, opt_outs, rounds)
    refused = rounds.refused
    return pl.concat(refused) if refused else pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class _Rounds:
    """What every round is decided with: the contacts' packs, whether a contact has a row per
    pack (`several`), the borrowers who share a number (`pooled`: borrower_id, phone,
    day_zone), and the refusals found so far (each round adds its own)."""

    packs: Mapping[str, RulePack]
    several: bool
    pooled: pl.DataFrame
    refused: list[pl.DataFrame]


def _decide_later(
    rest: pl.DataFrame,
    requests: pl.DataFrame,
    so_far: pl.DataFrame,
    holds: pl.DataFrame,
    opt_outs: pl.DataFrame,
    rounds: _Rounds,
) -> None:
    """The rounds after the first (`rest`), their refusals added to rounds.refused: all at once,
    each contact counting all its party's earlier ones as planned. A count only grows with
    more planned, and every counting rule refuses from a limit on, so if none refuses a
    contact so, none refuses it round by round either (and a hold or an opt-out refuses it
    the same either way). Else round by round, each counting only the earlier ones let
    through."""
    packs = rounds.packs
    ahead = _as_planned(rest.filter(pl.col("more")), rounds.several, rounds.pooled)
    found = refusals(rest, pl.concat([so_far, *ahead]), holds, opt_outs, packs)
    if found.filter(pl.col("kind").is_in(sorted(COUNTING))).height == 0:
        if found.height:
            details = refusal_details(rest, found, so_far, holds, opt_outs, packs)
            rounds.refused.append(_by_contact(details, rest))
        return
    last = rest.get_column("round").max()
    assert isinstance(last, int)
    for k in range(1, last + 1):
        batch = rest.filter(pl.col("round") == k)
        # Parties without a k-th contact are decided: the others' facts suffice.
        deciding = pl.col("borrower_id").is_in(_of_parties(batch, requests).implode())
        so_far, holds, opt_outs = (f.filter(deciding) for f in (so_far, holds, opt_outs))
        so_far = _decided(batch, so_far, holds, opt_outs, rounds)


def _decided(
    batch: pl.DataFrame,
    so_far: pl.DataFrame,
    holds: pl.DataFrame,
    opt_outs: pl.DataFrame,
    rounds: _Rounds,
) -> pl.DataFrame:
    """One round's contacts decided (their refusals added to rounds.refused, keyed by
    contact): the attempts so far, with the contacts let through that their party's later
    contacts count."""
    found = refusals(batch, so_far, holds, opt_outs, rounds.packs)
    if found.height:
        details = refusal_details(batch, found, so_far, holds, opt_outs, rounds.packs)
        rounds.refused.append(_by_contact(details, batch))
    allowed = batch.filter(pl.col("more")).join(
        found.join(batch.select("req", "contact"), on="req").select("contact"),
        on="contact", how="anti",
    )  # fmt: skip
    return pl.concat([so_far, *_as_planned(allowed, rounds.several, rounds.pooled)])


def _as_planned(allowed: pl.DataFrame, several: bool, pooled: pl.DataFrame) -> list[pl.DataFrame]:
    """Contacts let through as the attempts their party's later contacts count (in so_far's
    columns), once in each day zone their packs count days in; a call to a number shared
    (`pooled`: borrower_id, phone, day_zone) also as the other borrowers' shared dial."""
    if allowed.height > allowed.get_column("contact").n_unique():
        allowed = allowed.unique(["contact", "day_zone"], maintain_order=True)
    planned = allowed.select(
        "borrower_id", pl.col("window_start").alias("at"), "channel",
        pl.col("phone").alias("to_phone"), pl.lit(None, pl.String).alias("contact_id"),
        pl.col("channel").replace_strict(PLANNED_OUTCOME, default="sent").alias("outcome"),
    )  # fmt: skip
    zoned = ["day_zone"] if several else []
    mine = pl.concat(
        [
            planned,
            allowed.select(*zoned, pl.col("day").alias("a_day"), pl.lit(False).alias("shared"),
                           pl.col("round").alias("planned_in")),
        ],
        how="horizontal",
    )  # fmt: skip
    if pooled.height == 0:
        return [mine]
    # Once per call (`allowed` has a row per day zone of its borrower's packs).
    calls = pl.concat(
        [planned, allowed.select(pl.col("round").alias("planned_in"), "contact", "party")],
        how="horizontal",
    )
    calls = calls.filter(pl.col("party").is_not_null()).unique("contact")
    theirs = _dialled_by_others(calls.drop("contact", "party"), pooled)
    return [mine, theirs if several else theirs.drop("day_zone")]


def _dialled_by_others(attempts: pl.DataFrame, asked: pl.DataFrame) -> pl.DataFrame:
    """Attempts to a number another borrower asked about dials (`asked`: borrower_id, phone,
    day_zone), as that borrower's with `shared` set: only the dial cap counts them, with its
    local day in each of that borrower's day zones (`a_day`, `day_zone`)."""
    theirs = attempts.join(
        asked.rename({"borrower_id": "asker"}), left_on="to_phone", right_on="phone", how="inner"
    ).filter(pl.col("borrower_id") != pl.col("asker"))
    theirs = theirs.drop("borrower_id").rename({"asker": "borrower_id"})
    dated = theirs.with_columns(local_day(theirs).alias("a_day"))
    return dated.select(
        *ATTEMPT_SCHEMA, "day_zone", "a_day", pl.lit(True).alias("shared"), "planned_in"
    )


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

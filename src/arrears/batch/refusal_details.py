"""Why a planned contact was refused, in the domain's own words (asked only for the refused).

The column checks (batch/contact_checks.py) say which rule refuses a contact; the detail a
collector and a compliance officer read comes from the domain's check of that rule on the same
facts, so both the wording and the verdict stay the domain's.
"""

from collections.abc import Mapping

import polars as pl

from arrears.batch.contact_checks import ZONE_SEPARATOR
from arrears.domain.contact import ContactAttempt, ContactFacts, ContactRequest, Hold, OptOut
from arrears.domain.contact_rules import CHECKS, Scene
from arrears.domain.rule_pack import RulePack

DETAIL_SCHEMA = pl.Schema({"req": pl.UInt32, "rule": pl.String, "detail": pl.String})


def refusal_details(
    requests: pl.DataFrame,
    found: pl.DataFrame,
    attempts: pl.DataFrame,
    holds: pl.DataFrame,
    opt_outs: pl.DataFrame,
    packs: Mapping[str, RulePack],
) -> pl.DataFrame:
    """(req, rule, detail) for each refusal in `found`, from the domain's check of the rule.

    `requests` carry borrower_id, jurisdiction, channel, at, phone, zones and day_zone (the
    borrower's under that jurisdiction's pack); `attempts` each attempt's local day in the
    zone it was counted in, when they carry `day_zone`.
    """
    rows = found.join(
        requests.select("req", "borrower_id", "jurisdiction", "channel", "at", "phone", "zones",
                        "day_zone"),
        on="req", how="inner",
    )  # fmt: skip
    rules = {(j, rule.rule_id): rule for j, pack in packs.items() for rule in pack.rules}
    facts = _facts(rows, attempts, holds, opt_outs)
    out = []
    for req, rule_id, borrower, jurisdiction, channel, at, phone in rows.select(
        "req", "rule", "borrower_id", "jurisdiction", "channel", "at", "phone"
    ).iter_rows():
        rule = rules[(jurisdiction, rule_id)]
        scene = Scene.of(ContactRequest(borrower, channel, at, phone),
                         facts[(borrower, jurisdiction)])  # fmt: skip
        passed, detail = CHECKS[rule.kind](rule, scene)
        if passed:
            raise AssertionError(f"{rule_id} refused in columns but passes in the domain: {detail}")
        out.append((req, rule_id, detail))
    return pl.DataFrame(out, schema=DETAIL_SCHEMA, orient="row")


def _facts(
    rows: pl.DataFrame, attempts: pl.DataFrame, holds: pl.DataFrame, opt_outs: pl.DataFrame
) -> dict[tuple[str, str], ContactFacts]:
    """The domain's facts of each borrower in `rows` under each pack (its zones and day zone):
    the attempts once each (those counted in the pack's day zone, when they say), other
    borrowers' to the number as its shared dials (when they say)."""
    people = rows.select("borrower_id", "jurisdiction", "zones", "day_zone").unique(
        ["borrower_id", "jurisdiction"]
    )
    wanted = people.select("borrower_id").unique()
    for name, dtype in (("day_zone", pl.String), ("shared", pl.Boolean)):
        if name not in attempts.columns:
            attempts = attempts.with_columns(pl.lit(None, dtype).alias(name))
    made: dict[tuple[str, str | None, bool], list[ContactAttempt]] = {}
    for borrower, zone, shared, at, channel, to_phone, contact_id, outcome in (
        attempts.join(wanted, on="borrower_id", how="semi")
        .select("borrower_id", "day_zone", "shared", "at", "channel", "to_phone", "contact_id",
                "outcome")
        .iter_rows()
    ):  # fmt: skip
        made.setdefault((borrower, zone, bool(shared)), []).append(
            ContactAttempt(at, channel, to_phone, contact_id, outcome)
        )
    held: dict[str, list[Hold]] = {}
    for borrower, kind, starts_on, ends_on in (
        holds.join(wanted, on="borrower_id", how="semi")
        .select("borrower_id", "kind", "starts_on", "ends_on")
        .iter_rows()
    ):
        held.setdefault(borrower, []).append(Hold(kind, starts_on, ends_on))
    outs: dict[str, list[OptOut]] = {}
    for borrower, channel, since in (
        opt_outs.join(wanted, on="borrower_id", how="semi")
        .select("borrower_id", "channel", "since")
        .iter_rows()
    ):
        outs.setdefault(borrower, []).append(OptOut(channel, since))

    def attempts_of(borrower: str, day_zone: str, shared: bool) -> tuple[ContactAttempt, ...]:
        """The borrower's attempts counted in the zone (or in none: given without zones)."""
        return tuple(made.get((borrower, day_zone, shared), made.get((borrower, None, shared), ())))

    return {
        (borrower, jurisdiction): ContactFacts(
            tuple(zones.split(ZONE_SEPARATOR)),
            day_zone,
            attempts_of(borrower, day_zone, False),
            tuple(held.get(borrower, ())),
            tuple(outs.get(borrower, ())),
            shared_dials=attempts_of(borrower, day_zone, True),
        )
        for borrower, jurisdiction, zones, day_zone in people.iter_rows()
    }

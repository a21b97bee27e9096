"""Builders for contact-rule tests: the shipped packs, local instants, attempts and facts."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import polars as pl

from arrears.adapters.compliance_pack import contact_packs
from arrears.batch.contact_checks import ATTEMPT_SCHEMA, HOLD_SCHEMA, OPT_OUT_SCHEMA
from arrears.batch.plan_people import REACH_SCHEMA, FrameReach, People
from arrears.domain.compliance import RulePack, decide_contact
from arrears.domain.contact import (
    ContactAttempt,
    ContactDecision,
    ContactFacts,
    ContactRequest,
    Hold,
    OptOut,
    Reason,
)

PACKS = contact_packs()
CN: RulePack = PACKS["cn"]
US: RulePack = PACKS["us"]
UK: RulePack = PACKS["uk"]

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
CN_PHONE = "+8613812345678"
CN_OTHER_PHONE = "+8613712345678"
CN_CONTACT_PHONE = "+8613912345678"
US_PHONE = "+12125551234"
US_CONTACT_PHONE = "+12125559876"
DAY = date(2026, 3, 2)  # a Monday, no DST change in either zone


def local(day: date, hhmm: str, zone: str = SHANGHAI) -> datetime:
    """An aware instant at a local wall-clock time."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), ZoneInfo(zone))


def attempt(
    at: datetime,
    outcome: str = "no_answer",
    *,
    to: str | None = CN_PHONE,
    contact: str | None = None,
    channel: str = "call",
) -> ContactAttempt:
    """A past attempt (a call to the borrower's number unless told otherwise)."""
    return ContactAttempt(at, channel, to, contact, outcome)


def facts(
    attempts: Iterable[ContactAttempt] = (),
    *,
    zones: tuple[str, ...] = (SHANGHAI,),
    day_zone: str | None = None,
    holds: Iterable[Hold] = (),
    opt_outs: Iterable[OptOut] = (),
    contacts: Mapping[str, str] | None = None,
    phone: str | None = CN_PHONE,
) -> ContactFacts:
    """Facts of a borrower whose number is `phone`, in `zones` (days counted in the first
    unless `day_zone`)."""
    return ContactFacts(
        zones=zones,
        day_zone=day_zone or zones[0],
        attempts=tuple(attempts),
        holds=tuple(holds),
        opt_outs=tuple(opt_outs),
        contacts=dict(contacts) if contacts is not None else {"C1": CN_CONTACT_PHONE},
        phone=phone,
    )


def decide(
    pack: RulePack,
    at: datetime,
    known: ContactFacts,
    *,
    channel: str = "call",
    to: str | None = CN_PHONE,
    contact: str | None = None,
) -> ContactDecision:
    """Decide a request of borrower B1."""
    return decide_contact(ContactRequest("B1", channel, at, to, contact), known, pack)


def reason(decision: ContactDecision, rule: str) -> Reason:
    """The reason a decision gives for one rule."""
    found = [r for r in decision.reasons if r.rule == rule]
    assert len(found) == 1, f"{rule} not checked exactly once: {decision.reasons}"
    return found[0]


def blocked_by(decision: ContactDecision) -> set[str]:
    """The ids of the rules that block a decision."""
    return {r.rule for r in decision.broken}


def people_of(
    borrowers: Iterable[str],
    attempts: Mapping[str, Iterable[ContactAttempt]],
    holds: Mapping[str, Iterable[Hold]],
    opt_outs: Mapping[str, Iterable[OptOut]],
    *,
    zone: str = SHANGHAI,
    phone: str = CN_PHONE,
    jurisdiction: str = "cn",
) -> People:
    """The planner's People (frames) for borrowers in one zone with one phone number, with
    loans under one jurisdiction."""
    ids = list(borrowers)
    reach = pl.DataFrame(
        {"borrower_id": ids, "jurisdiction": [jurisdiction] * len(ids),
         "phone": [phone] * len(ids), "zones": [zone] * len(ids),
         "day_zone": [zone] * len(ids)}, schema=REACH_SCHEMA,
    )  # fmt: skip
    tried = [(b, a.at, a.channel, a.to_phone, a.contact_id, a.outcome)
             for b, made in attempts.items() for a in made]  # fmt: skip
    held = [(b, h.kind, h.starts_on, h.ends_on) for b, found in holds.items() for h in found]
    outs = [(b, o.channel, o.since) for b, found in opt_outs.items() for o in found]
    return People.of_frames(
        FrameReach(reach),
        pl.DataFrame(tried, schema=ATTEMPT_SCHEMA, orient="row").sort("at", maintain_order=True),
        pl.DataFrame(held, schema=HOLD_SCHEMA, orient="row"),
        pl.DataFrame(outs, schema=OPT_OUT_SCHEMA, orient="row"),
    )

"""The column form of the contact rules refuses exactly what the domain's engine refuses."""

from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.batch.contact_checks import (
    ATTEMPT_SCHEMA,
    HOLD_SCHEMA,
    KNOWN_KINDS,
    OPT_OUT_SCHEMA,
    REQUEST_SCHEMA,
    refusals,
)
from arrears.domain.compliance import decide_contact
from arrears.domain.contact import (
    CHANNELS,
    OUTCOMES,
    ContactAttempt,
    ContactFacts,
    ContactRequest,
    Hold,
    OptOut,
)
from arrears.domain.contact_rules import local_day
from arrears.domain.rule_pack import RULE_KINDS
from tests.contact_factories import CN_OTHER_PHONE, CN_PHONE, PACKS, US_PHONE

BASE = datetime(2026, 3, 2, 4, tzinfo=UTC)
WHERE = {
    "cn": (("Asia/Shanghai",), "Asia/Shanghai"),
    "us": (("America/New_York", "America/Chicago"), "America/New_York"),
    "uk": (("Europe/London",), "Europe/London"),
}
QUIET = {
    rule.rule_id for pack in PACKS.values() for rule in pack.rules if rule.kind == "quiet_hours"
}

Case = tuple[str, list[ContactRequest], ContactFacts]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A borrower of one jurisdiction, their history, holds and opt-outs, and a few requests."""
    jurisdiction = draw(st.sampled_from(sorted(WHERE)))
    phone = US_PHONE if jurisdiction == "us" else CN_PHONE
    past = []
    for _ in range(draw(st.integers(0, 14))):
        channel = draw(st.sampled_from(["call", "call", "call", "sms", "email", "letter"]))
        at = BASE - timedelta(minutes=draw(st.integers(-1440, 9 * 1440)))
        to = draw(st.sampled_from([phone, phone, CN_OTHER_PHONE, None]))
        who = draw(st.sampled_from([None, None, None, "C1"]))
        past.append(ContactAttempt(at, channel, to, who, draw(st.sampled_from(OUTCOMES[channel]))))
    day = BASE.date()
    holds = []
    for _ in range(draw(st.integers(0, 1))):
        starts = day + timedelta(days=draw(st.integers(-5, 2)))
        ends = draw(
            st.sampled_from([None, starts, day - timedelta(days=1), day + timedelta(days=3)])
        )
        kind = draw(st.sampled_from(["dispute", "hardship", "deceased", "cease_contact"]))
        holds.append(Hold(kind, starts, ends if ends is None or ends >= starts else starts))
    outs = [
        OptOut(draw(st.sampled_from(CHANNELS)),
               BASE - timedelta(hours=draw(st.integers(-30, 300))))
        for _ in range(draw(st.integers(0, 2)))
    ]  # fmt: skip
    zones, day_zone = WHERE[jurisdiction]
    facts = ContactFacts(zones, day_zone, tuple(sorted(past, key=lambda a: a.at)), tuple(holds),
                         tuple(outs))  # fmt: skip
    requests = [
        ContactRequest("B1", draw(st.sampled_from(CHANNELS)),
                       BASE + timedelta(minutes=draw(st.integers(-600, 900))),
                       draw(st.sampled_from([phone, phone, None])))
        for _ in range(draw(st.integers(1, 4)))
    ]  # fmt: skip
    return jurisdiction, requests, facts


def frames(jurisdiction: str, requests: list[ContactRequest], facts: ContactFacts) -> tuple[
    pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame
]:  # fmt: skip
    """The case as the frames the column checks read."""
    asked = pl.DataFrame(
        [(i, r.borrower_id, jurisdiction, r.channel, r.at, local_day(r.at, facts.day_zone),
          facts.day_zone, r.to_phone, ",".join(facts.zones)) for i, r in enumerate(requests)],
        schema=REQUEST_SCHEMA, orient="row",
    )  # fmt: skip
    made = pl.DataFrame(
        [("B1", a.at, a.channel, a.to_phone, a.contact_id, a.outcome) for a in facts.attempts],
        schema=ATTEMPT_SCHEMA, orient="row",
    )  # fmt: skip
    held = pl.DataFrame([("B1", h.kind, h.starts_on, h.ends_on) for h in facts.holds],
                        schema=HOLD_SCHEMA, orient="row")  # fmt: skip
    outs = pl.DataFrame([("B1", o.channel, o.since) for o in facts.opt_outs],
                        schema=OPT_OUT_SCHEMA, orient="row")  # fmt: skip
    return asked, made, held, outs


@settings(max_examples=300, deadline=None)
@given(cases())
def test_the_columns_refuse_what_the_domain_refuses(case: Case) -> None:
    jurisdiction, requests, facts = case
    found = refusals(*frames(jurisdiction, requests, facts), PACKS)
    for i, request in enumerate(requests):
        domain = decide_contact(request, facts, PACKS[jurisdiction])
        expected = {r.rule for r in domain.broken} - QUIET
        got = set(found.filter(pl.col("req") == i).get_column("rule").to_list())
        assert got == expected, (request, [r.detail for r in domain.broken])


def test_every_rule_kind_has_a_column_form() -> None:
    # A new kind in the domain must be given its column form (or be known to pass) here too.
    assert set(RULE_KINDS) == KNOWN_KINDS


def test_the_third_call_of_the_day_is_refused_in_columns() -> None:
    calls = [ContactAttempt(BASE - timedelta(hours=h), "call", CN_PHONE, None, "connected")
             for h in (1, 2, 3)]  # fmt: skip
    facts = ContactFacts(("Asia/Shanghai",), "Asia/Shanghai", tuple(calls))
    two = ContactFacts(("Asia/Shanghai",), "Asia/Shanghai", tuple(calls[:2]))
    request = ContactRequest("B1", "call", BASE, CN_PHONE)
    assert refusals(*frames("cn", [request], facts), PACKS).get_column("rule").to_list() == [
        "cn.connected_calls_per_day"
    ]
    assert refusals(*frames("cn", [request], two), PACKS).height == 0


ANCHORAGE = timezone(timedelta(hours=-8))  # Alaska daylight time


@pytest.mark.parametrize(("day", "refused"), [(9, True), (10, False)])
def test_a_conversation_counts_from_its_day_in_any_zone_the_borrower_may_be_in(
    day: int, refused: bool
) -> None:
    # An Alaskan number (days counted in Adak's zone): the borrower rang at 00:30 on 06-03 in
    # Anchorage, 23:30 on 06-02 in Adak. A call on 06-09 is on the 7th day in Anchorage
    # (12 CFR 1006.14(b)(2)(i)(B): refused), on the 8th in Adak; on 06-10, the 8th in both.
    rang = ContactAttempt(datetime(2025, 6, 3, 0, 30, tzinfo=ANCHORAGE), "call", US_PHONE, None,
                          "inbound")  # fmt: skip
    facts = ContactFacts(("America/Adak", "America/Anchorage"), "America/Adak", (rang,))
    request = ContactRequest("B1", "call", datetime(2025, 6, day, 9, tzinfo=ANCHORAGE), US_PHONE)
    domain = decide_contact(request, facts, PACKS["us"])
    broken = {r.rule: r.detail for r in domain.broken}
    assert ("us.call_after_conversation" in broken) is refused
    columns = refusals(*frames("us", [request], facts), PACKS).get_column("rule").to_list()
    assert ("us.call_after_conversation" in columns) is refused
    if refused:  # said in the zone where the conversation's day is in the days shown
        assert broken["us.call_after_conversation"] == (
            "no call within 7 days of a conversation (2025-06-03..2025-06-09); last on "
            "2025-06-03T00:30:00-08:00"
        )

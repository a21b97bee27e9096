"""The us pack (Regulation F, 12 CFR 1006) and the uk pack (CONC 7), rule by rule."""

from datetime import UTC, datetime, timedelta

import pytest

from arrears.domain.compliance import decide_entry
from arrears.domain.contact import (
    ContactAttempt,
    ContactDecision,
    ContactFacts,
    ContactRequest,
    Hold,
    OptOut,
)
from tests.contact_factories import (
    DAY,
    LOS_ANGELES,
    NEW_YORK,
    UK,
    US,
    US_CONTACT_PHONE,
    US_PHONE,
    attempt,
    blocked_by,
    decide,
    facts,
    local,
    reason,
)

NOON = local(DAY, "12:00", NEW_YORK)
CONTACTS = {"C1": US_CONTACT_PHONE}


def us_facts(
    attempts: list[ContactAttempt] | None = None,
    holds: tuple[Hold, ...] = (),
    opt_outs: tuple[OptOut, ...] = (),
) -> ContactFacts:
    """Facts of a New York borrower with one registered contact."""
    return facts(
        attempts or [], zones=(NEW_YORK,), contacts=CONTACTS, holds=holds, opt_outs=opt_outs,
        phone=US_PHONE,
    )  # fmt: skip


def on_day(days_before: int, outcome: str = "no_answer", hhmm: str = "10:00") -> ContactAttempt:
    """A call to the borrower `days_before` local days before DAY."""
    return attempt(local(DAY - timedelta(days=days_before), hhmm, NEW_YORK), outcome, to=US_PHONE)


@pytest.mark.parametrize(
    ("hhmm", "allowed"), [("20:59", True), ("21:00", False), ("07:59", False), ("08:00", True)]
)
def test_inconvenient_times_are_before_8_and_from_9_pm_local_time(hhmm: str, allowed: bool) -> None:
    decision = decide(US, local(DAY, hhmm, NEW_YORK), us_facts(), to=US_PHONE)
    assert reason(decision, "us.inconvenient_time").passed is allowed
    assert decision.allowed is allowed


def test_every_zone_of_the_number_must_allow_the_time() -> None:
    both = facts(zones=(NEW_YORK, LOS_ANGELES), contacts=CONTACTS, phone=US_PHONE)
    # 08:30 in New York is 05:30 in Los Angeles.
    decision = decide(US, local(DAY, "08:30", NEW_YORK), both, to=US_PHONE)
    assert blocked_by(decision) == {"us.inconvenient_time"}
    assert "05:30 in America/Los_Angeles" in reason(decision, "us.inconvenient_time").detail
    # 20:30 in Los Angeles is 23:30 in New York.
    assert not decide(US, local(DAY, "20:30", LOS_ANGELES), both, to=US_PHONE).allowed
    assert decide(US, local(DAY, "12:00", NEW_YORK), both, to=US_PHONE).allowed


def test_seven_calls_in_the_seven_days_ending_today_block_the_eighth() -> None:
    seven = [on_day(n) for n in range(7)]  # days -6..0
    decision = decide(US, NOON, us_facts(seven), to=US_PHONE)
    assert blocked_by(decision) == {"us.call_frequency_7_in_7"}


def test_a_call_on_day_minus_seven_is_outside_the_window() -> None:
    seven = [on_day(n) for n in range(1, 8)]  # days -7..-1
    assert decide(US, NOON, us_facts(seven), to=US_PHONE).allowed


def test_six_calls_in_the_window_leave_room_for_a_seventh() -> None:
    assert decide(US, NOON, us_facts([on_day(n) for n in range(6)]), to=US_PHONE).allowed


def test_a_conversation_on_day_minus_six_blocks_a_call() -> None:
    decision = decide(US, NOON, us_facts([on_day(6, "connected")]), to=US_PHONE)
    assert blocked_by(decision) == {"us.call_after_conversation"}


def test_only_a_connected_call_starts_the_seven_days_as_the_contract_says() -> None:
    # CONTRACT.md: blocked "when a `connected` call happened on that day or the 6 days
    # before" (helper-123: a refused call had started them too).
    assert reason(decide(US, NOON, us_facts([on_day(6, "refused")]), to=US_PHONE),
                  "us.call_after_conversation").passed  # fmt: skip
    decision = decide(US, NOON, us_facts([on_day(6, "connected")]), to=US_PHONE)
    assert blocked_by(decision) == {"us.call_after_conversation"}


def test_a_conversation_on_day_minus_seven_does_not() -> None:
    assert decide(US, NOON, us_facts([on_day(7, "connected")]), to=US_PHONE).allowed


def test_a_conversation_does_not_block_an_email() -> None:
    assert decide(US, NOON, us_facts([on_day(0, "connected")]), channel="email", to=None).allowed


def test_us_days_are_new_york_days() -> None:
    # 02:00 UTC on DAY is 21:00 on the day before in New York: a conversation on day -7 there.
    talk = attempt(datetime(2026, 2, 24, 2, 0, tzinfo=UTC), "connected", to=US_PHONE)
    assert decide(US, NOON, us_facts([talk]), to=US_PHONE).allowed
    # 05:00 UTC on 24 February is midnight in New York: day -6 there.
    talk = attempt(datetime(2026, 2, 24, 5, 0, tzinfo=UTC), "connected", to=US_PHONE)
    assert not decide(US, NOON, us_facts([talk]), to=US_PHONE).allowed


def test_a_third_party_may_be_reached_once() -> None:
    assert decide(US, NOON, us_facts(), to=US_CONTACT_PHONE, contact="C1").allowed
    reached = attempt(NOON - timedelta(days=20), "connected", to=US_CONTACT_PHONE, contact="C1")
    decision = decide(US, NOON, us_facts([reached]), to=US_CONTACT_PHONE, contact="C1")
    assert blocked_by(decision) == {"us.third_party"}


def test_the_one_third_party_contact_counts_for_every_entry_of_its_number() -> None:
    # 15 USC 1692b(3): the person reached once is not reached again through a second entry
    # of the same number in the borrower's contacts.
    two = {"C1": US_CONTACT_PHONE, "C5": US_CONTACT_PHONE}
    reached = attempt(NOON - timedelta(days=20), "connected", to=US_CONTACT_PHONE, contact="C1")
    file = facts([reached], zones=(NEW_YORK,), contacts=two, phone=US_PHONE)
    decision = decide(US, NOON, file, channel="sms", to=US_CONTACT_PHONE, contact="C5")
    assert blocked_by(decision) == {"us.third_party"}
    assert reason(decision, "us.third_party").detail == (
        "a third party at most 1 time(s), to locate the borrower; 1 so far (as contact C1, on "
        "the same number)"
    )


def test_an_unanswered_third_party_call_does_not_use_the_one_contact() -> None:
    missed = attempt(NOON - timedelta(days=20), "no_answer", to=US_CONTACT_PHONE, contact="C1")
    assert decide(US, NOON, us_facts([missed]), to=US_CONTACT_PHONE, contact="C1").allowed


def test_an_unregistered_third_party_is_blocked() -> None:
    decision = decide(US, NOON, us_facts(), to="+12125550000", contact="X")
    assert blocked_by(decision) == {"us.registered_contacts_only"}


@pytest.mark.parametrize(
    ("channel", "rule"),
    [
        ("sms", "us.electronic_opt_out"),
        ("email", "us.electronic_opt_out"),
        ("call", "us.medium_opt_out"),
    ],
)
def test_an_opt_out_blocks_its_channel(channel: str, rule: str) -> None:
    known = us_facts(opt_outs=(OptOut(channel, NOON - timedelta(days=1)),))
    assert blocked_by(decide(US, NOON, known, channel=channel, to=US_PHONE)) == {rule}


def test_a_dispute_blocks_us_collection_and_its_end_lifts_it() -> None:
    held = us_facts(holds=(Hold("dispute", DAY - timedelta(days=5)),))
    assert blocked_by(decide(US, NOON, held, to=US_PHONE)) == {"us.hold"}
    ended = us_facts(holds=(Hold("dispute", DAY - timedelta(days=5), DAY - timedelta(days=1)),))
    assert decide(US, NOON, ended, to=US_PHONE).allowed


@pytest.mark.parametrize(
    ("hhmm", "allowed"), [("20:59", True), ("21:00", False), ("07:59", False), ("08:00", True)]
)
def test_uk_contact_is_within_8_to_9_local_time(hhmm: str, allowed: bool) -> None:
    london = facts(zones=("Europe/London",), contacts={})
    decision = decide(UK, local(DAY, hhmm, "Europe/London"), london, to="+447911123456")
    assert reason(decision, "uk.unreasonable_time").passed is allowed


def test_uk_third_parties_follow_the_unreachable_rule() -> None:
    london = facts(zones=("Europe/London",), contacts={"C1": "+447911654321"})
    at = local(DAY, "12:00", "Europe/London")
    decision = decide(UK, at, london, to="+447911654321", contact="C1")
    assert blocked_by(decision) == {"uk.third_party"}


def entry(at: datetime, known: ContactFacts, outcome: str = "no_answer") -> ContactDecision:
    """The decision on recording B1's call to their number at `at` with `outcome`."""
    made = attempt(at, outcome, to=US_PHONE)
    return decide_entry(ContactRequest("B1", "call", at, US_PHONE), known, US, made)


def test_a_call_logged_late_that_makes_a_later_one_the_eighth_is_flagged() -> None:
    # Seven calls on days -6..0 at 10:00, each allowed when logged; one on day -3 at 09:00
    # logged afterwards: it passes at its own instant (three before it in its window), but the
    # call of day 0 is now the eighth in 7 days.
    seven = [on_day(n) for n in range(7)]
    late = local(DAY - timedelta(days=3), "09:00", NEW_YORK)
    assert decide(US, late, us_facts(seven), to=US_PHONE).allowed
    decision = entry(late, us_facts(seven))
    assert blocked_by(decision) == {"us.call_frequency_7_in_7"}
    flagged = decision.broken[0].detail
    assert flagged.startswith(f"the call of {on_day(0).at.isoformat()} on record after this one")


def test_a_call_logged_late_within_the_limits_is_allowed() -> None:
    six = [on_day(n) for n in range(6)]  # days -5..0: a late seventh keeps every window at 7
    assert entry(local(DAY - timedelta(days=3), "09:00", NEW_YORK), us_facts(six)).allowed


def test_a_conversation_logged_late_flags_the_calls_after_it() -> None:
    later = [on_day(1)]  # a call yesterday, allowed: no conversation on record then
    decision = entry(local(DAY - timedelta(days=2), "10:00", NEW_YORK), us_facts(later),
                     "connected")  # fmt: skip
    assert blocked_by(decision) == {"us.call_after_conversation"}


def test_a_conversation_the_consumer_started_starts_the_seven_days_too() -> None:
    # The consumer called the collector on day -3 (inbound): a telephone conversation about
    # the debt whoever started it (12 CFR 1006.14(b)(2)(i)(B)), so no call today.
    decision = decide(US, NOON, us_facts([on_day(3, "inbound")]), to=US_PHONE)
    assert blocked_by(decision) == {"us.call_after_conversation"}
    assert decide(US, NOON, us_facts([on_day(7, "inbound")]), to=US_PHONE).allowed


def test_calls_the_consumer_made_are_not_call_attempts() -> None:
    # Seven calls in: none is one of the 7 call attempts in 7 days (1006.14(b)(2)(i)(A)), which
    # are the collector's; six of its own leave room for a seventh (a week after the talks).
    inbound = [on_day(n, "inbound", "09:00") for n in range(7, 14)]
    mine = [on_day(n) for n in range(6)]
    assert decide(US, NOON, us_facts([*inbound, *mine]), to=US_PHONE).allowed
    assert not decide(US, NOON, us_facts([*inbound, *mine, on_day(6)]), to=US_PHONE).allowed


def test_a_call_the_consumer_made_is_not_judged_as_a_call_placed() -> None:
    # At 23:00, the day after a conversation, the eighth call of the week: the consumer rang
    # the collector. Recorded as allowed, every rule saying it was not judged.
    seven = [on_day(n, hhmm="08:30") for n in range(1, 7)] + [on_day(1, "connected")]
    late = local(DAY, "23:00", NEW_YORK)
    decision = entry(late, us_facts(seven), "inbound")
    assert decision.allowed, decision.broken
    assert all("(inbound): no contact placed, not judged" in r.detail for r in decision.reasons)
    assert [r.rule for r in decision.reasons] == [r.rule_id for r in US.rules_for("call")]


def test_a_conversation_the_consumer_started_logged_late_flags_the_calls_after_it() -> None:
    # A call yesterday, allowed; the consumer's call of the day before, logged afterwards, was
    # a conversation: yesterday's call was within the 7 days after it. The inbound record is
    # flagged for it, naming that call, though it was not judged itself.
    decision = entry(local(DAY - timedelta(days=2), "10:00", NEW_YORK), us_facts([on_day(1)]),
                     "inbound")  # fmt: skip
    assert blocked_by(decision) == {"us.call_after_conversation"}
    assert decision.broken[0].detail.startswith(f"the call of {on_day(1).at.isoformat()}")
    # A call logged late before an inbound one on record: the inbound one is never judged.
    before = entry(local(DAY - timedelta(days=3), "10:00", NEW_YORK),
                   us_facts([on_day(1, "inbound")]), "connected")  # fmt: skip
    assert before.allowed, before.broken

"""The cn contact pack, rule by rule at its boundaries (GB/T 45251-2025, CBA 2026, PIPL)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from arrears.domain.compliance import decide_entry
from arrears.domain.contact import (
    CHANNELS,
    HOLD_KINDS,
    ContactAttempt,
    ContactDecision,
    ContactFacts,
    ContactRequest,
    Hold,
    OptOut,
)
from tests.contact_factories import (
    CN,
    CN_CONTACT_PHONE,
    CN_OTHER_PHONE,
    CN_PHONE,
    DAY,
    SHANGHAI,
    attempt,
    blocked_by,
    decide,
    facts,
    local,
    reason,
)

MORNING = local(DAY, "10:00")


def calls(
    count: int,
    outcome: str = "no_answer",
    start: str = "08:00",
    to: str | None = CN_PHONE,
    contact: str | None = None,
) -> list[ContactAttempt]:
    """`count` calls on DAY, a minute apart from `start` local time."""
    first = local(DAY, start)
    return [
        attempt(first + timedelta(minutes=i), outcome, to=to, contact=contact) for i in range(count)
    ]


@pytest.mark.parametrize(
    ("hhmm", "allowed"),
    [("21:59", True), ("22:00", False), ("07:59", False), ("08:00", True), ("00:00", False)],
)
@pytest.mark.parametrize("channel", CHANNELS)
def test_quiet_hours_are_22_to_8_local_time_on_every_channel(
    hhmm: str, allowed: bool, channel: str
) -> None:
    decision = decide(CN, local(DAY, hhmm), facts(), channel=channel)
    assert reason(decision, "cn.quiet_hours").passed is allowed
    assert decision.allowed is allowed


def test_a_blocked_decision_cites_the_rule_and_its_source() -> None:
    found = reason(decide(CN, local(DAY, "22:00"), facts()), "cn.quiet_hours")
    assert "GB/T 45251-2025" in found.source
    assert "22:00-08:00 local time (Asia/Shanghai)" in found.detail


def test_an_allowed_decision_lists_every_call_rule_as_passed() -> None:
    decision = decide(CN, MORNING, facts())
    assert decision.allowed
    assert [r.rule for r in decision.reasons] == [rule.rule_id for rule in CN.rules_for("call")]
    assert all(r.passed for r in decision.reasons)


def test_an_unverified_rule_is_cited_as_unverified() -> None:
    assert reason(decide(CN, MORNING, facts()), "cn.hold").source.endswith("(unverified)")
    assert not reason(decide(CN, MORNING, facts()), "cn.quiet_hours").source.endswith(
        "(unverified)"
    )


def test_the_third_connected_call_is_allowed_the_fourth_is_not() -> None:
    assert decide(CN, MORNING, facts(calls(2, "connected"))).allowed
    decision = decide(CN, MORNING, facts(calls(3, "connected")))
    assert blocked_by(decision) == {"cn.connected_calls_per_day"}


def test_only_connected_calls_count_among_the_days_three_as_the_contract_says() -> None:
    # CONTRACT.md: "the connected-call cap counts `connected` calls to the borrower": two
    # connected and one refused leave a third conversation (helper-123: the pack had counted
    # refused calls too, blocking what the contract allows).
    history = [*calls(2, "connected"), *calls(1, "refused", start="07:00")]
    assert reason(decide(CN, MORNING, facts(history)), "cn.connected_calls_per_day").passed
    decision = decide(CN, MORNING, facts([*history, *calls(1, "connected", start="07:30")]))
    assert blocked_by(decision) == {"cn.connected_calls_per_day"}
    assert "3 already" in reason(decision, "cn.connected_calls_per_day").detail
    # Calls no one answered are no conversation: only the dial cap counts them.
    assert reason(decide(CN, MORNING, facts(calls(5, "no_answer"))),
                  "cn.connected_calls_per_day").passed  # fmt: skip


def test_connected_calls_with_a_contact_do_not_count_as_the_borrowers() -> None:
    with_contact = calls(3, "connected", to=CN_CONTACT_PHONE, contact="C1")
    assert reason(decide(CN, MORNING, facts(with_contact)), "cn.connected_calls_per_day").passed


def test_a_conversation_the_borrower_started_counts_among_the_days_three() -> None:
    # GB/T 45251-2025 caps effective voice conversations with the debtor, whoever rang: two
    # calls out and one in leave no call to make today (the strict reading); the call in
    # was not judged.
    history = [*calls(2, "connected"), *calls(1, "inbound", start="09:00")]
    decision = decide(CN, MORNING, facts(history))
    assert blocked_by(decision) == {"cn.connected_calls_per_day"}
    assert "3 already" in reason(decision, "cn.connected_calls_per_day").detail


def test_calls_the_borrower_made_are_not_dials_to_their_number() -> None:
    # Six calls in from the borrower's number today: none is a dial of the collector's (CBA
    # 2026: at most 6 call attempts a day to a number), nor of another borrower's on it.
    inbound = calls(6, "inbound", start="07:00")
    dials = reason(decide(CN, MORNING, facts(inbound)), "cn.dial_attempts_per_number_per_day")
    assert dials.passed
    shared = ContactFacts((SHANGHAI,), SHANGHAI, shared_dials=tuple(inbound), phone=CN_PHONE)
    assert decide(CN, MORNING, shared).allowed
    # The third calls in: contacts stay closed while the borrower answers, and calls.
    after = [*calls(3, "no_answer"), *calls(1, "inbound", start="09:00")]
    decision = decide(CN, MORNING, facts(after), to=CN_CONTACT_PHONE, contact="C1")
    assert blocked_by(decision) == {"cn.third_party"}


def test_the_sixth_dial_to_a_number_is_allowed_the_seventh_is_not() -> None:
    assert decide(CN, MORNING, facts(calls(5))).allowed
    decision = decide(CN, MORNING, facts(calls(6, "busy")))
    assert blocked_by(decision) == {"cn.dial_attempts_per_number_per_day"}


def test_dials_to_another_number_are_not_counted() -> None:
    known = facts(calls(6, to=CN_OTHER_PHONE))
    assert decide(CN, MORNING, known).allowed
    # The other number's cap is reached (had the borrower no number on record, it would be
    # taken as theirs: only that cap refuses it).
    unknown = facts(calls(6, to=CN_OTHER_PHONE), phone=None)
    decision = decide(CN, MORNING, unknown, to=CN_OTHER_PHONE)
    assert blocked_by(decision) == {"cn.dial_attempts_per_number_per_day"}


def test_dials_on_record_without_their_number_count_against_the_borrowers_own() -> None:
    # A book may leave an attempt's number out (to_phone is optional): it reached the
    # borrower on their own number, as the third-party rule reads it, so the cap counts it.
    assert decide(CN, MORNING, facts(calls(5, to=None))).allowed
    decision = decide(CN, MORNING, facts(calls(6, "busy", to=None)))
    assert blocked_by(decision) == {"cn.dial_attempts_per_number_per_day"}
    # Without its number, a call to a registered contact is the contact's, not the borrower's.
    assert decide(CN, MORNING, facts(calls(6, "busy", to=None, contact="C1"))).allowed


def shared_entry(known: ContactFacts, at: datetime, outcome: str = "no_answer") -> ContactDecision:
    """The decision on recording B1's call to their number at `at`."""
    made = attempt(at, outcome)
    return decide_entry(ContactRequest("B1", "call", at, CN_PHONE), known, CN, made)


def test_a_call_logged_late_making_another_borrowers_later_dial_the_seventh_is_flagged() -> None:
    # Another borrower of the number dialled it six times from 11:00, each the 1st-6th that
    # day; B1's own call at 09:00, logged afterwards, makes the last of them the 7th.
    theirs = calls(6, start="11:00")
    known = replace(facts(), shared_dials=tuple(theirs))
    assert decide(CN, local(DAY, "09:00"), known).allowed  # passes at its own instant
    decision = shared_entry(known, local(DAY, "09:00"))
    assert blocked_by(decision) == {"cn.dial_attempts_per_number_per_day"}
    [flagged] = decision.broken
    assert flagged.detail.startswith(
        f"another borrower's call of {theirs[-1].at.isoformat()} to the number on record after"
        " this one: at most 6 attempts per number per local day; 6 already"
    )


def test_a_call_logged_late_leaves_other_borrowers_dials_under_the_cap_alone() -> None:
    five = replace(facts(), shared_dials=tuple(calls(5, start="11:00")))
    assert shared_entry(five, local(DAY, "09:00")).allowed  # the last is now the 6th: allowed
    other = replace(facts(), shared_dials=tuple(calls(6, start="11:00", to=CN_OTHER_PHONE)))
    assert shared_entry(other, local(DAY, "09:00")).allowed  # dials to another number
    tomorrow = [attempt(local(DAY + timedelta(days=1), "11:00") + timedelta(minutes=i))
                for i in range(6)]  # fmt: skip
    assert shared_entry(replace(facts(), shared_dials=tuple(tomorrow)),
                        local(DAY, "09:00")).allowed  # fmt: skip


def test_another_borrowers_later_dials_count_only_under_the_dial_cap() -> None:
    # B1's third conversation of the day, logged late at 09:00, before three dials of
    # another borrower of the number: those dials (the 4th-6th to it) stay under the dial
    # cap, and B1's conversation cap is B1's own, not judged again on another's dial.
    mine = calls(2, "connected")
    theirs = calls(3, start="11:00")
    known = replace(facts(mine), shared_dials=tuple(theirs))
    assert shared_entry(known, local(DAY, "09:00"), "connected").allowed
    # Three more of theirs make their last the seventh dial to the number: only that cap.
    more = replace(facts(mine), shared_dials=tuple(calls(4, start="11:00")))
    decision = shared_entry(more, local(DAY, "09:00"), "connected")
    assert blocked_by(decision) == {"cn.dial_attempts_per_number_per_day"}


def test_days_are_the_borrowers_local_days_across_utc_midnight() -> None:
    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai: those dials count for 2 March.
    early = [attempt(datetime(2026, 3, 1, 23, 30 + i, tzinfo=UTC)) for i in range(6)]
    assert not reason(
        decide(CN, MORNING, facts(early)), "cn.dial_attempts_per_number_per_day"
    ).passed
    # 15:59 UTC on 1 March is 23:59 on 1 March in Shanghai: another day.
    late = [attempt(datetime(2026, 3, 1, 15, 50 + i, tzinfo=UTC)) for i in range(6)]
    assert decide(CN, MORNING, facts(late)).allowed


def test_attempts_after_the_instant_are_not_yet_made() -> None:
    later = calls(6, start="11:00")
    assert decide(CN, MORNING, facts(later)).allowed


def test_a_contact_is_blocked_while_the_borrower_answers() -> None:
    history = [*calls(2, "no_answer"), *calls(1, "connected", start="09:00")]
    decision = decide(CN, MORNING, facts(history), to=CN_CONTACT_PHONE, contact="C1")
    assert blocked_by(decision) == {"cn.third_party"}


def test_a_contact_is_allowed_after_three_failed_attempts() -> None:
    history = [
        *calls(1, "connected", start="08:00"),
        *calls(1, "no_answer", start="08:10"),
        *calls(1, "busy", start="08:20"),
        *calls(1, "invalid_number", start="08:30"),
    ]
    decision = decide(CN, MORNING, facts(history), to=CN_CONTACT_PHONE, contact="C1")
    assert decision.allowed, decision.broken


def test_a_contact_is_allowed_right_after_an_invalid_number() -> None:
    history = [*calls(1, "connected"), *calls(1, "invalid_number", start="09:00")]
    assert decide(CN, MORNING, facts(history), to=CN_CONTACT_PHONE, contact="C1").allowed


@pytest.mark.parametrize(
    ("channel", "outcome", "to"),
    [("call", "inbound", CN_OTHER_PHONE), ("call", "connected", CN_OTHER_PHONE),
     ("call", "refused", CN_OTHER_PHONE), ("visit", "connected", None),
     ("visit", "refused", None)],
)  # fmt: skip
def test_a_borrower_reached_after_failed_calls_closes_the_way_to_contacts(
    channel: str, outcome: str, to: str | None
) -> None:
    # Three failed calls to their number, then they ring in from another one, a call to a
    # new number gets through, or a visit meets them: they are not unreachable (GB/T
    # 45251-2025; NIFA 2018 Art. 13: a third party only to restore contact).
    reached = attempt(local(DAY, "09:00"), outcome, to=to, channel=channel)
    decision = decide(CN, MORNING, facts([*calls(3), reached]), to=CN_CONTACT_PHONE,
                      contact="C1")  # fmt: skip
    assert blocked_by(decision) == {"cn.third_party"}
    assert reason(decision, "cn.third_party").detail.endswith(
        f"but reached since: {outcome} {channel}"
    )
    # Reached before the failed calls: those still open the way; a failed visit reaches nobody.
    before = attempt(local(DAY, "07:00"), outcome, to=to, channel=channel)
    assert decide(CN, MORNING, facts([before, *calls(3)]), to=CN_CONTACT_PHONE,
                  contact="C1").allowed  # fmt: skip
    missed = attempt(local(DAY, "09:00"), "no_answer", to=None, channel="visit")
    assert decide(CN, MORNING, facts([*calls(3), missed]), to=CN_CONTACT_PHONE,
                  contact="C1").allowed  # fmt: skip


def test_a_borrower_reached_after_an_invalid_number_closes_the_way_to_contacts() -> None:
    history = [*calls(1, "invalid_number"), attempt(local(DAY, "09:30"), "inbound",
                                                     to=CN_OTHER_PHONE)]  # fmt: skip
    decision = decide(CN, MORNING, facts(history), to=CN_CONTACT_PHONE, contact="C1")
    assert blocked_by(decision) == {"cn.third_party"}


def test_a_contact_is_blocked_before_any_attempt_to_the_borrower() -> None:
    decision = decide(CN, MORNING, facts(), to=CN_CONTACT_PHONE, contact="C1")
    assert blocked_by(decision) == {"cn.third_party"}


def test_a_contact_who_refused_is_never_contacted_again() -> None:
    refused = attempt(
        local(DAY - timedelta(days=30), "10:00"), "refused", to=CN_CONTACT_PHONE, contact="C1"
    )
    history = [refused, *calls(3, "no_answer")]
    for channel in ("call", "sms", "visit"):
        decision = decide(
            CN, MORNING, facts(history), channel=channel, to=CN_CONTACT_PHONE, contact="C1"
        )
        assert "cn.third_party_refused" in blocked_by(decision)


@pytest.mark.parametrize("recorded_number", [True, False])
def test_a_contact_who_refused_is_not_reached_again_under_another_entry_of_the_number(
    recorded_number: bool,
) -> None:
    # One household phone registered twice (as a spouse and as a friend): whoever answers it
    # refused, whichever entry the refusal was logged under, with or without its number.
    two = {"C1": CN_CONTACT_PHONE, "C2": CN_CONTACT_PHONE, "C3": CN_OTHER_PHONE}
    at = local(DAY - timedelta(days=30), "10:00")
    refused = attempt(at, "refused", to=CN_CONTACT_PHONE if recorded_number else None,
                      contact="C2")  # fmt: skip
    history = [refused, *calls(3, "no_answer")]
    decision = decide(CN, MORNING, facts(history, contacts=two), to=CN_CONTACT_PHONE,
                      contact="C1")  # fmt: skip
    assert blocked_by(decision) == {"cn.third_party_refused"}
    assert reason(decision, "cn.third_party_refused").detail == (
        f"never again after the contact refused; contact C1 refused on {at.isoformat()} (as "
        f"contact C2, on the same number)"
    )
    # Another contact, on another number, is not the one who refused.
    other = decide(CN, MORNING, facts(history, contacts=two), to=CN_OTHER_PHONE, contact="C3")
    assert other.allowed


def test_a_contact_the_borrower_never_registered_is_blocked() -> None:
    history = calls(3, "no_answer")
    decision = decide(CN, MORNING, facts(history), to="+8613612345678", contact="PHONEBOOK-9")
    assert blocked_by(decision) == {"cn.registered_contacts_only"}
    assert (
        "个人信息保护法》第六条、第二十三条"
        in reason(decision, "cn.registered_contacts_only").source
    )


def test_a_number_nobody_gave_is_no_number_of_the_borrower() -> None:
    # Neither the borrower's number on record nor a registered contact's: it may be a phone
    # book's, so no pack lets it be dialled as the borrower's (PIPL Art. 6, 23).
    decision = decide(CN, MORNING, facts(), to=CN_OTHER_PHONE)
    assert blocked_by(decision) == {"cn.registered_contacts_only"}
    detail = reason(decision, "cn.registered_contacts_only").detail
    # Masked: a reason is shown to whoever sees the case (PIPL Art. 51).
    assert "+86137****5678 is neither the borrower's number on record (+86138****5678)" in detail
    assert CN_OTHER_PHONE not in detail
    assert CN_PHONE not in detail
    assert decide(CN, MORNING, facts(), to=CN_PHONE).allowed
    # With no number on record for the borrower, the number dialled is taken as theirs.
    assert decide(CN, MORNING, facts(phone=None), to=CN_OTHER_PHONE).allowed


def test_calls_to_a_number_nobody_gave_do_not_open_the_way_to_contacts() -> None:
    # Three failed calls to some other number are not the borrower's three failed attempts.
    elsewhere = calls(3, "no_answer", to=CN_OTHER_PHONE)
    decision = decide(CN, MORNING, facts(elsewhere), to=CN_CONTACT_PHONE, contact="C1")
    assert blocked_by(decision) == {"cn.third_party"}
    assert reason(decision, "cn.third_party").detail.endswith("last attempts: none")
    theirs = calls(3, "no_answer")
    assert decide(CN, MORNING, facts(theirs), to=CN_CONTACT_PHONE, contact="C1").allowed


def test_a_registered_contact_on_another_number_is_blocked() -> None:
    decision = decide(CN, MORNING, facts(calls(3)), to="+8613612345678", contact="C1")
    assert blocked_by(decision) == {"cn.registered_contacts_only"}


def test_an_opt_out_blocks_only_its_channel() -> None:
    known = facts(opt_outs=[OptOut("sms", local(DAY - timedelta(days=1), "12:00"))])
    assert blocked_by(decide(CN, MORNING, known, channel="sms")) == {"cn.opt_out"}
    assert decide(CN, MORNING, known, channel="call").allowed


def test_an_opt_out_counts_from_its_instant() -> None:
    known = facts(opt_outs=[OptOut("sms", local(DAY, "11:00"))])
    assert decide(CN, MORNING, known, channel="sms").allowed


@pytest.mark.parametrize("kind", HOLD_KINDS)
def test_an_active_hold_blocks_every_channel(kind: str) -> None:
    known = facts(holds=[Hold(kind, DAY - timedelta(days=3))])
    for channel in CHANNELS:
        assert blocked_by(decide(CN, MORNING, known, channel=channel)) == {"cn.hold"}


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "blocks"),
    [
        (date(2026, 2, 1), date(2026, 3, 1), False),  # ended yesterday
        (date(2026, 2, 1), DAY, True),  # its last day
        (DAY, None, True),  # starts today
        (DAY + timedelta(days=1), None, False),  # starts tomorrow
    ],
)
def test_a_hold_covers_its_local_days_inclusive(
    starts_on: date, ends_on: date | None, blocks: bool
) -> None:
    known = facts(holds=[Hold("dispute", starts_on, ends_on)])
    assert reason(decide(CN, MORNING, known), "cn.hold").passed is not blocks

"""Contact check and log on a real store: facts loaded, packs chosen by the loans, zones found."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from arrears.adapters.db import tables
from arrears.adapters.db.instants import utc
from arrears.adapters.settings import load_settings
from arrears.bootstrap import App
from arrears.domain.contact import ContactRequest, Hold, OptOut
from arrears.services.contact_check import ContactInputError, ContactRefused, check_contact
from arrears.services.contact_log import (
    ContactNotRegistered,
    log_contact,
    place_hold,
    record_opt_out,
)

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 3, tzinfo=UTC)
BORROWERS = [
    ("B1", "+8613812345678", None),
    ("B2", "+12125551234", "America/Los_Angeles"),  # a New York number, living in California
    ("B3", "+18005550199", None),  # toll-free: every US zone
    ("B4", "+8613712345678", None),  # no loan
    ("B5", "+8613612345678", None),  # loans in China and the US
    ("B6", "+8613812345678", None),  # B1's number too (a family's one phone)
    ("B7", "+18005550199", "America/Los_Angeles"),  # toll-free, living in California
    ("B8", "+13642001234", None),  # western Kentucky's overlay area code: two zones
]
LOANS = [("L1", "B1", "cn-cash"), ("L2", "B2", "us-installment"), ("L3", "B3", "us-installment"),
         ("L5", "B5", "cn-cash"), ("L6", "B5", "us-installment"),
         ("L7", "B6", "cn-cash"), ("L8", "B7", "us-installment"),
         ("L9", "B8", "us-installment")]  # fmt: skip


@pytest.fixture
def app(migrated: Engine) -> App:
    """An app on the test database with the borrowers above; B1 registered contact C1."""
    application = App(str(migrated.url), load_settings(None))
    application.__dict__["engine"] = migrated  # share the fixture's engine (its schema)
    with migrated.begin() as conn:
        conn.execute(
            insert(tables.borrowers),
            [{"borrower_id": b, "name": b, "phone": p, "timezone": z} for b, p, z in BORROWERS],
        )
        conn.execute(
            insert(tables.contacts),
            {"contact_id": "C1", "borrower_id": "B1", "name": "李四", "phone": "+8613912345678",
             "relation": "spouse"},
        )  # fmt: skip
        conn.execute(
            insert(tables.loans),
            [{"loan_id": loan, "borrower_id": b, "product": product, "currency": "CNY",
              "principal": 100_000, "annual_rate": "0.2", "contract_date": date(2026, 1, 1)}
             for loan, b, product in LOANS],
        )  # fmt: skip
    return application


def check(app: App, borrower: str, at: datetime, **kw: Any) -> Any:
    """Check a call (unless told otherwise) at an instant."""
    channel = kw.pop("channel", "call")
    return check_contact(
        app.contacts, app.contact_terms, ContactRequest(borrower, channel, at, **kw)
    )


def log(app: App, borrower: str, at: datetime, outcome: str, **kw: Any) -> Any:
    """Log a call (unless told otherwise)."""
    channel = kw.pop("channel", "call")
    request = ContactRequest(borrower, channel, at, **kw)
    return log_contact(app.contacts, app.contact_terms, request, outcome, NOW)


def register_c2(app: App, phone: str, relation: str) -> None:
    """Register B1's contact C2 (王五) on `phone`."""
    with app.engine.begin() as conn:
        conn.execute(
            insert(tables.contacts),
            {"contact_id": "C2", "borrower_id": "B1", "name": "王五", "phone": phone,
             "relation": relation},
        )  # fmt: skip


def broken(decision: Any) -> set[str]:
    """The ids of the rules a decision says are broken."""
    return {r.rule for r in decision.broken}


def test_an_unknown_borrower_is_refused(app: App) -> None:
    with pytest.raises(ContactRefused, match="'B9' is not in the database"):
        check(app, "B9", NOW)


def test_a_borrower_without_a_loan_has_no_pack_to_say_yes(app: App) -> None:
    with pytest.raises(ContactRefused, match="has no loan"):
        check(app, "B4", NOW)


def test_a_call_without_a_number_dials_the_registered_one(app: App) -> None:
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    for minute in range(6):
        stored = log(app, "B1", morning + timedelta(minutes=minute), "no_answer")
        assert stored.attempt.to_phone == "+8613812345678"
        assert stored.decision.allowed
    later = morning + timedelta(hours=1)
    assert broken(check(app, "B1", later)) == {"cn.dial_attempts_per_number_per_day"}
    # Another number: B1's dials to theirs do not count for it, but it is no number B1 gave.
    other = check(app, "B1", later, to_phone="+86 137 1234 5678")
    assert broken(other) == {"cn.registered_contacts_only"}


def test_a_number_that_is_not_one_is_an_input_error(app: App) -> None:
    with pytest.raises(ContactInputError, match="--to: '12345' is not a valid phone number"):
        check(app, "B1", NOW, to_phone="12345")


def test_a_us_call_must_suit_the_recorded_zone_and_the_numbers(app: App) -> None:
    # B2 lives in Los Angeles on a New York number: conflicting information, so the time must
    # be convenient in both (12 CFR 1006.6(b)(1)(i)). 09:00 in New York is 06:00 there.
    decision = check(app, "B2", datetime(2026, 3, 2, 14, tzinfo=UTC))
    assert broken(decision) == {"us.inconvenient_time"}
    (time_rule,) = [r for r in decision.reasons if r.rule == "us.inconvenient_time"]
    assert "06:00 in America/Los_Angeles" in time_rule.detail
    # 19:00 in Los Angeles is 22:00 in New York, where the number rings.
    decision = check(app, "B2", datetime(2026, 3, 3, 3, tzinfo=UTC))
    assert broken(decision) == {"us.inconvenient_time"}
    (time_rule,) = [r for r in decision.reasons if r.rule == "us.inconvenient_time"]
    assert "22:00 in America/New_York" in time_rule.detail
    # 12:00 in Los Angeles is 15:00 in New York: both allow it.
    assert broken(check(app, "B2", datetime(2026, 3, 2, 20, tzinfo=UTC))) == set()


def test_a_number_of_an_overlay_area_code_must_suit_every_zone_of_its_land(app: App) -> None:
    # +1 364 lies over 270's western Kentucky, partly on Central time: 08:15 in New York is
    # 07:15 there (12 CFR 1006.6(b)(1)(i)), though phonenumbers gives 364 New York's alone.
    decision = check(app, "B8", datetime(2026, 3, 2, 13, 15, tzinfo=UTC))
    assert broken(decision) == {"us.inconvenient_time"}
    (time_rule,) = [r for r in decision.reasons if r.rule == "us.inconvenient_time"]
    assert "07:15 in America/Chicago" in time_rule.detail
    # 09:00 in Chicago is 10:00 in New York: both allow it.
    assert broken(check(app, "B8", datetime(2026, 3, 2, 15, tzinfo=UTC))) == set()


def test_a_toll_free_number_must_suit_every_us_zone(app: App) -> None:
    # 12:00 in New York is 07:00 in Honolulu; 19:00 in New York (14:00 Honolulu) is too late
    # for Guam, and 23:00 UTC suits them all (19:00 New York, 13:00 Honolulu, 09:00 Guam).
    assert broken(check(app, "B3", datetime(2026, 3, 2, 17, tzinfo=UTC))) == {
        "us.inconvenient_time"
    }
    assert broken(check(app, "B3", datetime(2026, 3, 2, 23, tzinfo=UTC))) == set()


def test_a_toll_free_number_adds_no_zone_to_a_recorded_one(app: App) -> None:
    # B7 lives in Los Angeles on a toll-free number, which carries no location: 08:30 there
    # (05:30 in Honolulu, one of the number's zones) is convenient (12 CFR 1006.6(b)(1)(i)).
    decision = check(app, "B7", datetime(2026, 3, 2, 16, 30, tzinfo=UTC))
    assert broken(decision) == set()
    (time_rule,) = [r for r in decision.reasons if r.rule == "us.inconvenient_time"]
    assert "(America/Los_Angeles)" in time_rule.detail
    assert broken(check(app, "B7", datetime(2026, 3, 2, 15, 59, tzinfo=UTC))) == {
        "us.inconvenient_time"
    }  # 07:59 in Los Angeles


def test_a_logged_attempt_that_broke_a_rule_is_kept_and_flagged(app: App) -> None:
    stored = log(app, "B1", datetime(2026, 3, 2, 23, tzinfo=BEIJING), "connected")
    assert not stored.decision.allowed
    assert broken(stored.decision) == {"cn.quiet_hours"}
    with app.engine.connect() as conn:
        assert conn.execute(select(tables.contact_attempts.c.allowed)).scalars().all() == [False]


def test_logging_an_unregistered_contact_is_refused_and_nothing_is_stored(app: App) -> None:
    with pytest.raises(ContactNotRegistered, match="'C9' is not registered for borrower 'B1'"):
        log(app, "B1", NOW, "connected", contact_id="C9", to_phone="+8613612345678")
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.contact_attempts)).scalar() == 0


def test_checking_an_unregistered_contact_answers_blocked(app: App) -> None:
    decision = check(app, "B1", datetime(2026, 3, 2, 10, tzinfo=BEIJING), contact_id="C9")
    assert "cn.registered_contacts_only" in broken(decision)


def test_an_outcome_the_channel_cannot_have_is_an_input_error(app: App) -> None:
    with pytest.raises(ContactInputError, match="outcome 'sent' is not possible for a call"):
        log(app, "B1", NOW, "sent")


def test_a_contact_is_reached_on_their_registered_number(app: App) -> None:
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    log(app, "B1", morning, "invalid_number")
    stored = log(app, "B1", morning + timedelta(minutes=5), "refused", contact_id="C1")
    assert stored.attempt.to_phone == "+8613912345678"
    assert stored.decision.allowed
    later = check(app, "B1", morning + timedelta(hours=1), contact_id="C1")
    assert broken(later) == {"cn.third_party_refused"}


def test_a_call_to_a_contact_abroad_must_suit_the_debtors_hours_too(app: App) -> None:
    # cn: no collection contact 22:00-08:00 in the debtor's local time (GB/T 45251-2025), a
    # call to their contact included: 10:00 in New York is 23:00 in Shanghai, where B1 is
    # (found by helper-111: the contact's clock alone allowed it).
    register_c2(app, "+12125550123", "sibling")
    log(app, "B1", datetime(2026, 3, 2, 9, tzinfo=BEIJING), "invalid_number")  # tried first
    decision = check(app, "B1", datetime(2026, 3, 2, 15, tzinfo=UTC), contact_id="C2")
    assert broken(decision) == {"cn.quiet_hours"}
    (quiet,) = [r for r in decision.reasons if r.rule == "cn.quiet_hours"]
    assert "(2 time zones" in quiet.detail
    assert "quiet: 23:00 in Asia/Shanghai" in quiet.detail
    # 20:00 in New York is 09:00 the next day in Shanghai: both allow it.
    assert broken(check(app, "B1", datetime(2026, 3, 3, 1, tzinfo=UTC), contact_id="C2")) == set()
    # A call to the borrower, at an hour of theirs, needs no other clock.
    assert broken(check(app, "B1", datetime(2026, 3, 3, 1, tzinfo=UTC))) == set()


def test_a_contact_s_number_reaches_the_contact_even_unnamed(app: App) -> None:
    # Dialling C1's number is reaching C1: the third-party rules apply without --contact.
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    spouse = "+86 139 1234 5678"
    first = check(app, "B1", morning, to_phone=spouse)
    assert broken(first) == {"cn.third_party"}  # the borrower was never tried
    log(app, "B1", morning, "invalid_number")
    stored = log(app, "B1", morning + timedelta(minutes=5), "refused", to_phone=spouse)
    assert (stored.attempt.contact_id, stored.attempt.to_phone) == ("C1", "+8613912345678")
    later = check(app, "B1", morning + timedelta(hours=1), to_phone=spouse)
    assert broken(later) == {"cn.third_party_refused"}
    # The borrower's own number is still the borrower.
    own = check(app, "B1", morning + timedelta(hours=1), to_phone="+8613812345678")
    assert own.allowed


def test_a_refusal_under_one_entry_of_a_number_blocks_the_number(app: App) -> None:
    # One household phone registered as a spouse (C1) and a friend (C2): the refusal logged
    # under C2 is the number's, so neither C1 nor the bare number is rung again (before, the
    # bare number was put down as C1's, which had not refused, and allowed).
    register_c2(app, "+8613912345678", "friend")
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    log(app, "B1", morning, "invalid_number")
    log(app, "B1", morning + timedelta(hours=1), "refused", contact_id="C2")
    later = morning + timedelta(hours=2)
    assert broken(check(app, "B1", later, to_phone="13912345678")) == {"cn.third_party_refused"}
    assert broken(check(app, "B1", later, contact_id="C1")) == {"cn.third_party_refused"}
    stored = log(app, "B1", later, "connected", to_phone="13912345678")
    assert not stored.decision.allowed
    assert broken(stored.decision) == {"cn.third_party_refused"}


def test_holds_and_opt_outs_block_what_they_cover(app: App) -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=BEIJING)
    record_opt_out(app.contacts, "B1", OptOut("sms", at - timedelta(days=1)))
    assert broken(check(app, "B1", at, channel="sms")) == {"cn.opt_out"}
    assert broken(check(app, "B1", at)) == set()
    place_hold(app.contacts, app.contact_terms, "B1", Hold("dispute", date(2026, 3, 1)), NOW)
    assert broken(check(app, "B1", at)) == {"cn.hold"}
    ended = Hold("dispute", date(2026, 3, 1), date(2026, 3, 1))
    place_hold(app.contacts, app.contact_terms, "B1", ended, NOW)
    assert broken(check(app, "B1", at)) == set()
    with pytest.raises(ContactRefused):
        place_hold(app.contacts, app.contact_terms, "B9", Hold("dispute", date(2026, 3, 1)), NOW)


def test_a_holds_note_is_kept_with_what_every_pack_of_the_borrowers_loans_finds(
    app: App,
) -> None:
    # B5 has a cn and a us loan: a hold is the borrower's, so its note is read under both
    # packs (as a contact's note is), kept as written (its ends trimmed) with the findings.
    note = "  客户说我们是老赖公司, a deadbeat lender  "
    hold = Hold("dispute", date(2026, 3, 1), note=note)
    kept = place_hold(app.contacts, app.contact_terms, "B5", hold, NOW)
    assert kept is not None
    assert kept.text == note.strip()
    assert kept.rules == ["cn.content.insults", "us.content.abusive_language"]
    with app.engine.connect() as conn:
        row = conn.execute(select(tables.holds).where(tables.holds.c.borrower_id == "B5")).one()
    assert row.note == note.strip()
    assert [(f["rule"], f["matched"]) for f in row.note_findings] == [
        ("cn.content.insults", "老赖"), ("us.content.abusive_language", "deadbeat"),
    ]  # fmt: skip
    assert utc(row.noted_at) == NOW


def test_a_holds_end_changed_without_a_note_keeps_its_note_findings_and_instant(
    app: App,
) -> None:
    place_hold(app.contacts, app.contact_terms, "B1",
               Hold("dispute", date(2026, 3, 1), note="老赖"), NOW)  # fmt: skip
    later = NOW + timedelta(days=2)
    ended = Hold("dispute", date(2026, 3, 1), date(2026, 3, 2))
    assert place_hold(app.contacts, app.contact_terms, "B1", ended, later) is None
    with app.engine.connect() as conn:
        row = conn.execute(select(tables.holds)).one()
    assert (row.ends_on, row.note, utc(row.noted_at)) == (
        date(2026, 3, 2), "老赖", NOW,
    )  # fmt: skip
    assert [f["rule"] for f in row.note_findings] == ["cn.content.insults"]
    # A new note given with the change replaces the note, its findings and its instant.
    renoted = Hold("dispute", date(2026, 3, 1), date(2026, 3, 3), note="客户已提交材料")
    place_hold(app.contacts, app.contact_terms, "B1", renoted, later)
    with app.engine.connect() as conn:
        row = conn.execute(select(tables.holds)).one()
    assert (row.note, row.note_findings, utc(row.noted_at)) == (
        "客户已提交材料", None, later,
    )  # fmt: skip


def test_a_borrower_with_loans_in_two_jurisdictions_meets_both_packs(app: App) -> None:
    # 21:30 in Shanghai suits China (until 22:00) but the US pack stops at 21:00.
    decision = check(app, "B5", datetime(2026, 3, 2, 21, 30, tzinfo=BEIJING))
    rules = [r.rule for r in decision.reasons]
    assert "cn.quiet_hours" in rules
    assert "us.inconvenient_time" in rules
    assert broken(decision) == {"us.inconvenient_time"}


def test_every_call_to_a_number_two_borrowers_share_counts_against_its_dial_cap(app: App) -> None:
    """CONTRACT.md: the dial cap counts every call attempt to that phone number; the caps per
    person count the borrower's own calls only."""
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    for minute in range(3):
        log(app, "B1", morning + timedelta(minutes=minute), "connected")
    for minute in (10, 11):
        log(app, "B6", morning + timedelta(minutes=minute), "no_answer")
    later = morning + timedelta(hours=1)
    assert broken(check(app, "B6", later)) == set()  # B1's conversations are not B6's
    log(app, "B6", morning + timedelta(minutes=12), "no_answer")
    assert broken(check(app, "B1", later)) == {
        "cn.connected_calls_per_day", "cn.dial_attempts_per_number_per_day"
    }  # fmt: skip
    decision = check(app, "B6", later)
    assert broken(decision) == {"cn.dial_attempts_per_number_per_day"}
    [cap] = decision.broken
    assert "6 already to +86138****5678 (3 for other borrowers of the number)" in cap.detail
    assert "+8613812345678" not in cap.detail  # a reason is shown to whoever sees the case


def test_a_call_logged_late_that_makes_another_borrowers_later_dial_the_seventh_is_flagged(
    app: App,
) -> None:
    """A dialler's file sent late: B1's 09:00 call, logged after B6's six calls to the number
    they share from 11:00, makes B6's last the seventh that day (CONTRACT.md: the dial cap
    counts every call to the number). The late record is stored, flagged for that."""
    morning = datetime(2026, 3, 2, 11, tzinfo=BEIJING)
    for minute in range(6):
        assert log(app, "B6", morning + timedelta(minutes=minute), "no_answer").decision.allowed
    stored = log(app, "B1", datetime(2026, 3, 2, 9, tzinfo=BEIJING), "no_answer")
    assert broken(stored.decision) == {"cn.dial_attempts_per_number_per_day"}
    [flagged] = stored.decision.broken
    assert flagged.detail.startswith("another borrower's call of 2026-03-02T03:05:00+00:00")
    # The next day, five of B6's calls after B1's late one: the last is the sixth, allowed.
    next_day = morning + timedelta(days=1)
    for minute in range(5):
        log(app, "B6", next_day + timedelta(minutes=minute), "no_answer")
    assert log(app, "B1", datetime(2026, 3, 3, 9, tzinfo=BEIJING), "busy").decision.allowed


def test_calls_on_record_without_their_number_count_for_the_other_borrower_of_it(
    app: App,
) -> None:
    """B6's six calls today on record without a number (a dialler's rows, an older version's):
    they rang B6's own number, which is B1's too, so B1's seventh is refused and, logged,
    flagged, as with the number written (CBA 2026: at most 6 a day to a number)."""
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    row: dict[str, Any] = {"borrower_id": "B6", "contact_id": None, "channel": "call",
                           "to_phone": None, "outcome": "no_answer", "recorded_at": NOW,
                           "allowed": True, "reasons": []}  # fmt: skip
    rows = [{**row, "at": (morning + timedelta(minutes=m)).astimezone(UTC)} for m in range(6)]
    rows.append({**rows[0], "channel": "visit"})  # rings no number
    with app.engine.begin() as conn:
        conn.execute(insert(tables.contact_attempts), rows)
    later = morning + timedelta(hours=1)
    decision = check(app, "B1", later)
    assert broken(decision) == {"cn.dial_attempts_per_number_per_day"}
    assert "6 already to +86138****5678 (6 for other borrowers of the number)" in next(
        r.detail for r in decision.broken
    )
    theirs = app.contacts.shared_dials("B1", {"+8613812345678"})
    assert [(a.channel, a.to_phone) for a in theirs] == [("call", "+8613812345678")] * 6
    stored = log(app, "B1", later, "no_answer")  # decided on the same count, and stored
    assert broken(stored.decision) == {"cn.dial_attempts_per_number_per_day"}
    assert broken(check(app, "B5", later)) == set()  # another number


def test_a_number_given_with_to_counts_every_call_to_it(app: App) -> None:
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    for minute in range(6):
        log(app, "B5", morning + timedelta(minutes=minute), "no_answer")
    later = morning + timedelta(hours=1)
    assert broken(check(app, "B1", later)) == set()
    decision = check(app, "B1", later, to_phone="+8613612345678")
    # B5's number is none B1 gave; its dial cap counts B5's six calls all the same.
    assert broken(decision) == {
        "cn.dial_attempts_per_number_per_day", "cn.registered_contacts_only"
    }  # fmt: skip


def test_calls_to_a_number_nobody_gave_are_flagged_and_open_no_way_to_contacts(app: App) -> None:
    morning = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    for minute in range(3):
        stored = log(app, "B1", morning + timedelta(minutes=minute), "no_answer",
                     to_phone="+8613700000088")  # fmt: skip
        assert broken(stored.decision) == {"cn.registered_contacts_only"}
    decision = check(app, "B1", morning + timedelta(hours=1), contact_id="C1")
    assert broken(decision) == {"cn.third_party"}
    for minute in range(3):
        log(app, "B1", morning + timedelta(minutes=10 + minute), "no_answer")
    assert broken(check(app, "B1", morning + timedelta(hours=1), contact_id="C1")) == set()


def test_a_number_without_its_country_code_is_read_in_the_borrowers_country(app: App) -> None:
    # B2's number is a New York one: a number written the American way is American.
    at = datetime(2026, 3, 2, 16, tzinfo=UTC)
    stored = log(app, "B2", at, "no_answer", to_phone="(212) 555-1234")
    assert stored.attempt.to_phone == "+12125551234"
    assert broken(stored.decision) == set()
    stored = log(app, "B1", at, "no_answer", to_phone="138 1234 5678")
    assert stored.attempt.to_phone == "+8613812345678"

"""Every detail a contact rule says reads back into its words, and they say it again to the
letter: so a page can show any detail the checks give (and the stores keep) in the reader's
language."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.compliance import decide_entry
from arrears.domain.contact import ContactAttempt, ContactFacts, ContactRequest, Hold, OptOut
from arrears.domain.errors import Clauses, Term, Terms, Words
from arrears.domain.rule_details import FORMS, detail_words
from tests.contact_factories import (
    CN,
    CN_CONTACT_PHONE,
    CN_OTHER_PHONE,
    CN_PHONE,
    LOS_ANGELES,
    NEW_YORK,
    SHANGHAI,
    UK,
    US,
    US_CONTACT_PHONE,
    US_PHONE,
)

BASE = datetime(2026, 3, 2, tzinfo=UTC)
OUTCOMES = {
    "call": ("connected", "no_answer", "busy", "invalid_number", "refused", "inbound"),
    "sms": ("sent", "delivered", "failed", "invalid_number"),
    "email": ("sent", "delivered", "failed"),
    "letter": ("sent", "delivered", "failed"),
    "visit": ("connected", "no_answer", "refused"),
}
NUMBERS = {"cn": (CN_PHONE, CN_OTHER_PHONE, CN_CONTACT_PHONE),
           "us": (US_PHONE, US_CONTACT_PHONE, "+13105550123")}  # fmt: skip
PACKS = {"cn": CN, "us": US, "uk": UK}


@st.composite
def scenes(draw: st.DrawFn) -> tuple[str, ContactRequest, ContactFacts, ContactAttempt]:
    """A pack, a request, what is known of the borrower (history, holds, opt-outs, other
    borrowers' dials to the number, one or more zones) and the attempt as it was made."""
    pack = draw(st.sampled_from(sorted(PACKS)))
    numbers = NUMBERS["cn" if pack == "cn" else "us"]
    own, other, theirs = numbers
    contacts = {"C1": theirs, "C2": theirs, "C3": other}
    at = BASE + timedelta(minutes=draw(st.integers(0, 3 * 1440)))
    channel = draw(st.sampled_from(sorted(OUTCOMES)))
    to = draw(st.sampled_from([own, other, theirs, None]))
    contact = draw(st.sampled_from([None, "C1", "C2", "C3", "C9"]))
    request = ContactRequest("B1", channel, at, to, contact)

    def made(when: datetime) -> ContactAttempt:
        kind = draw(st.sampled_from(sorted(OUTCOMES)))
        return ContactAttempt(when, kind, draw(st.sampled_from([own, other, theirs, None])),
                              draw(st.sampled_from([None, "C1", "C2", "C3"])),
                              draw(st.sampled_from(OUTCOMES[kind])))  # fmt: skip

    minutes = st.integers(-9 * 1440, 2 * 1440)
    past = [made(at + timedelta(minutes=draw(minutes))) for _ in range(draw(st.integers(0, 25)))]
    shared = [made(at + timedelta(minutes=draw(minutes))) for _ in range(draw(st.integers(0, 4)))]
    first = date(2026, 2, 25) + timedelta(days=draw(st.integers(0, 8)))
    holds = [Hold(draw(st.sampled_from(("dispute", "hardship", "deceased", "cease_contact"))),
                  first, draw(st.sampled_from([None, first + timedelta(days=3)])))
             for _ in range(draw(st.integers(0, 2)))]  # fmt: skip
    outs = [OptOut(draw(st.sampled_from(("sms", "email", "call"))), at - timedelta(days=1))
            for _ in range(draw(st.integers(0, 1)))]  # fmt: skip
    zones = {"cn": (SHANGHAI,), "us": draw(st.sampled_from([(NEW_YORK,), (NEW_YORK, LOS_ANGELES),
                                                            (NEW_YORK, LOS_ANGELES, SHANGHAI,
                                                             "Pacific/Honolulu")])),
             "uk": ("Europe/London",)}[pack]  # fmt: skip
    facts = ContactFacts(zones, zones[0], tuple(past), tuple(holds), tuple(outs), contacts,
                         shared_dials=tuple(shared),
                         phone=draw(st.sampled_from([own, None])))  # fmt: skip
    outcome = draw(st.sampled_from(OUTCOMES[channel]))
    return pack, request, facts, ContactAttempt(at, channel, to, contact, outcome)


@settings(max_examples=600, deadline=None)
@given(scenes())
def test_every_detail_reads_back_into_words_that_say_it_again(
    scene: tuple[str, ContactRequest, ContactFacts, ContactAttempt],
) -> None:
    pack, request, facts, made = scene
    decision = decide_entry(request, facts, PACKS[pack], made)
    for reason in decision.reasons:
        words = detail_words(reason.detail)
        assert words is not None, reason.detail
        assert str(words) == reason.detail


def test_a_detail_reads_back_with_its_words_of_the_domain_named() -> None:
    words = detail_words("the borrower opted out of sms on 2025-11-09T16:00:00+00:00")
    assert words == Words("the borrower opted out of {channel} on {at}",
                          {"channel": Term("channel:sms", "sms"),
                           "at": "2025-11-09T16:00:00+00:00"})  # fmt: skip
    said = detail_words(
        "at most 3 connected/inbound calls with the borrower per local day; 3 already on "
        "2026-03-02 (Asia/Shanghai)"
    )
    assert said is not None
    assert said.values["outcomes"] == Terms(
        (Term("outcome:connected", "connected"), Term("outcome:inbound", "inbound")), "or", "/"
    )
    held = detail_words("collection paused: dispute hold 2026-03-01..open; "
                        "hardship hold 2026-02-01..2026-04-01")  # fmt: skip
    assert held is not None
    holds = held.values["holds"]
    assert isinstance(holds, Clauses)
    kinds = [w.values["kind"] for w in holds.clauses]
    assert kinds == [Term("hold:dispute", "dispute"), Term("hold:hardship", "hardship")]
    assert holds.clauses[0].values["end"] == Words("open")


def test_an_attempt_that_counted_through_two_contacts_reads_back_as_both() -> None:
    detail = ("a third party at most 1 time(s), to locate the borrower; 2 so far (as contact "
              "C2, on the same number) (as contact C3, on the same number)")  # fmt: skip
    said = detail_words(detail)
    assert said is not None
    assert str(said) == detail
    through = said.values["through"]
    assert isinstance(through, Clauses)
    assert [w.values["contact"] for w in through.clauses] == ["C2", "C3"]


def test_a_text_not_worded_by_a_check_is_left_as_it_is() -> None:
    assert detail_words("a lender's own words") is None
    assert detail_words("the borrower opted out of SMS! on yesterday") is None  # no channel


def test_no_two_forms_of_a_whole_detail_share_a_template() -> None:
    assert len({form.template for form in FORMS}) == len(FORMS)


def test_a_borrower_reached_since_reads_back_as_such() -> None:
    # Three calls unanswered, then the borrower rang in: a contact is not to be asked.
    calls = [ContactAttempt(BASE + timedelta(hours=h), "call", CN_PHONE, None, "no_answer")
             for h in (1, 2, 3)]  # fmt: skip
    rang = ContactAttempt(BASE + timedelta(hours=4), "call", CN_OTHER_PHONE, None, "inbound")
    facts = ContactFacts((SHANGHAI,), SHANGHAI, (*calls, rang), contacts={"C1": CN_CONTACT_PHONE},
                         phone=CN_PHONE)  # fmt: skip
    request = ContactRequest("B1", "call", BASE + timedelta(hours=5), CN_CONTACT_PHONE, "C1")
    made = ContactAttempt(request.at, "call", CN_CONTACT_PHONE, "C1", "no_answer")
    [reason] = [r for r in decide_entry(request, facts, CN, made).reasons
                if r.rule == "cn.third_party"]  # fmt: skip
    assert reason.detail.endswith("; but reached since: inbound call")
    said = detail_words(reason.detail)
    assert said is not None
    assert str(said) == reason.detail
    assert said.values["outcome"] == Term("outcome:inbound", "inbound")


def test_the_nights_words_for_no_lawful_time_read_back() -> None:
    loans = "under every pack of the borrower's loans"
    for text in ("no lawful time today in every zone", f"no time today is lawful {loans}",
                 f"no time of 2026-03-02 is lawful {loans}"):  # fmt: skip
        said = detail_words(text)
        assert said is not None
        assert str(said) == text


def test_a_recorded_zone_beside_the_numbers_is_not_called_the_numbers() -> None:
    # The us pack: recorded in Los Angeles, a New York number: two zones the person may be in
    # (the detail said "of the number", and a detail stored so still reads back).
    request = ContactRequest("B1", "call", datetime(2026, 3, 2, 10, 59, tzinfo=UTC), US_PHONE)
    facts = ContactFacts(("America/Los_Angeles", NEW_YORK), "America/Los_Angeles")
    made = ContactAttempt(request.at, "call", US_PHONE, None, "no_answer")
    reasons = decide_entry(request, facts, US, made).reasons
    [quiet] = [r for r in reasons if r.rule == "us.inconvenient_time"]
    assert quiet.detail.startswith("no contact 21:00-08:00 local time (2 time zones the person "
                                   "may be in); quiet: 02:59 in America/Los_Angeles")  # fmt: skip
    stored = ("no contact 21:00-08:00 local time (2 time zones of the number); quiet: 07:59 in "
              "America/Los_Angeles")  # fmt: skip
    said = detail_words(stored)
    assert said is not None
    assert said.values["where"] == Words("{n} time zones of the number", {"n": "2"})


def test_a_contact_id_that_reads_like_a_refusal_is_read_as_the_contact() -> None:
    # Contact ids are free text: "x refused on y" with no refusal on record is that contact,
    # who has not refused (it was read as a refusal on "y has not refused").
    said = detail_words("never again after the contact refused; contact x refused on y has not "
                        "refused")  # fmt: skip
    assert said is not None
    assert said.values["contact"] == "x refused on y"
    assert said.values["found"] == Words("has not refused")

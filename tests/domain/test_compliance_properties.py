"""Invariants: whatever the history, an allowed contact never takes a count past a pack's limit.

The limits are recounted here from CONTRACT.md's words, independently of the engine's code.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.compliance import lawful_window
from arrears.domain.contact import ContactAttempt, ContactFacts, ContactRequest
from tests.contact_factories import (
    CN,
    CN_CONTACT_PHONE,
    CN_OTHER_PHONE,
    CN_PHONE,
    NEW_YORK,
    SHANGHAI,
    US,
    decide,
    reason,
)

BASE = datetime(2026, 3, 2, tzinfo=UTC)
CALL_OUTCOMES = ("connected", "no_answer", "busy", "invalid_number", "refused")
FAILED = {"no_answer", "busy", "invalid_number"}
REACHED = {"connected", "refused", "sent", "delivered"}
TARGETS = [(CN_PHONE, None), (CN_OTHER_PHONE, None), (CN_CONTACT_PHONE, "C1")]


@st.composite
def histories(draw: st.DrawFn) -> tuple[ContactRequest, list[ContactAttempt]]:
    """A request and up to 40 attempts in the 9 days before it (calls, some SMS)."""
    at = BASE + timedelta(minutes=draw(st.integers(0, 2 * 1440)))
    to, contact = draw(st.sampled_from(TARGETS))
    request = ContactRequest("B1", "call", at, to, contact)
    past = []
    for _ in range(draw(st.integers(0, 40))):
        back = timedelta(minutes=draw(st.integers(0, 9 * 1440)))
        phone, who = draw(st.sampled_from(TARGETS))
        if draw(st.integers(0, 9)) == 0:
            past.append(ContactAttempt(at - back, "sms", phone, who, "delivered"))
        else:
            outcome = draw(st.sampled_from(CALL_OUTCOMES))
            past.append(ContactAttempt(at - back, "call", phone, who, outcome))
    return request, past


def day_of(at: datetime, zone: str) -> date:
    """The local calendar day of an instant."""
    return at.astimezone(ZoneInfo(zone)).date()


def known(past: list[ContactAttempt], zone: str) -> ContactFacts:
    """Facts in one zone, with one registered contact."""
    return ContactFacts((zone,), zone, tuple(past), contacts={"C1": CN_CONTACT_PHONE})


def as_made(request: ContactRequest) -> ContactAttempt:
    """The request appended to the history, in its worst case: a conversation."""
    return ContactAttempt(request.at, "call", request.to_phone, request.contact_id, "connected")


@settings(max_examples=400, deadline=None)
@given(histories())
def test_an_allowed_cn_call_keeps_every_cn_limit(
    case: tuple[ContactRequest, list[ContactAttempt]],
) -> None:
    request, past = case
    decision = decide(
        CN, request.at, known(past, SHANGHAI), to=request.to_phone, contact=request.contact_id
    )
    if not decision.allowed:
        return
    local = request.at.astimezone(ZoneInfo(SHANGHAI))
    assert 8 <= local.hour < 22
    day = local.date()
    after = [*past, as_made(request)]
    today = [a for a in after if a.channel == "call" and day_of(a.at, SHANGHAI) == day]
    assert sum(a.contact_id is None and a.outcome == "connected" for a in today) <= 3
    assert sum(a.to_phone == request.to_phone for a in today) <= 6
    if request.contact_id is not None:
        own = sorted(
            (a for a in past if a.channel == "call" and a.contact_id is None), key=lambda a: a.at
        )
        last = own[-3:]
        assert (len(last) == 3 and {a.outcome for a in last} <= FAILED) or (
            own[-1].outcome == "invalid_number"
        )
        assert not any(a.contact_id == request.contact_id and a.outcome == "refused" for a in past)


@settings(max_examples=400, deadline=None)
@given(histories())
def test_an_allowed_us_call_keeps_every_us_limit(
    case: tuple[ContactRequest, list[ContactAttempt]],
) -> None:
    request, past = case
    decision = decide(
        US, request.at, known(past, NEW_YORK), to=request.to_phone, contact=request.contact_id
    )
    if not decision.allowed:
        return
    local = request.at.astimezone(ZoneInfo(NEW_YORK))
    assert 8 <= local.hour < 21
    day = local.date()

    def in_week(attempt: ContactAttempt) -> bool:
        return attempt.channel == "call" and 0 <= (day - day_of(attempt.at, NEW_YORK)).days <= 6

    assert sum(in_week(a) for a in [*past, as_made(request)]) <= 7
    assert not any(in_week(a) and a.outcome == "connected" for a in past)
    if request.contact_id is not None:
        assert not any(a.contact_id == request.contact_id and a.outcome in REACHED for a in past)


ZONES = [
    SHANGHAI,
    NEW_YORK,
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Pacific/Guam",
    "Europe/London",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    st.integers(0, 365 * 1440),
)
def test_every_instant_of_the_lawful_window_passes_the_time_rule(
    zones: list[str], minute: int
) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    window = lawful_window(day_of(at, zones[0]), zones, US)
    facts = ContactFacts(tuple(zones), zones[0])
    passed = reason(decide(US, at, facts, channel="email", to=None), "us.inconvenient_time").passed
    if window is not None and window[0] <= at < window[1]:
        assert passed
    if len(zones) == 1:  # one zone: the window is exactly the allowed part of the day
        assert passed is (window is not None and window[0] <= at < window[1])

"""Contact values refuse what cannot be: naive instants, impossible outcomes, bad rules."""

from datetime import date, datetime, time

import pytest

from arrears.domain.contact import ContactAttempt, ContactFacts, ContactRequest, Hold, OptOut
from arrears.domain.contact_rules import zone
from arrears.domain.errors import DomainError
from arrears.domain.rule_pack import ContactRule


def test_a_naive_instant_is_refused() -> None:
    naive = datetime(2026, 3, 2, 10)  # noqa: DTZ001 - the point of the test
    with pytest.raises(DomainError, match="has no UTC offset"):
        ContactRequest("B1", "call", naive)
    with pytest.raises(DomainError, match="has no UTC offset"):
        OptOut("sms", naive)


def test_an_outcome_must_suit_its_channel() -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=zone("Asia/Shanghai"))
    with pytest.raises(DomainError, match="outcome 'busy' is not possible for a letter"):
        ContactAttempt(at, "letter", None, None, "busy")
    with pytest.raises(DomainError, match="unknown channel 'fax'"):
        ContactAttempt(at, "fax", None, None, "sent")


def test_holds_and_facts_refuse_nonsense() -> None:
    with pytest.raises(DomainError, match="unknown hold 'vacation'"):
        Hold("vacation", date(2026, 3, 1))
    with pytest.raises(DomainError, match="ends 2026-02-01 before it starts"):
        Hold("dispute", date(2026, 3, 1), date(2026, 2, 1))
    with pytest.raises(DomainError, match="at least one time zone"):
        ContactFacts((), "Asia/Shanghai")
    with pytest.raises(DomainError, match="not an IANA time zone"):
        zone("Mars/Olympus")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "curfew"}, "unknown rule kind 'curfew'"),
        ({"kind": "connected_per_day", "limit": 3}, "needs `outcomes`"),
        ({"kind": "dials_per_number_per_day", "limit": -1}, "`limit` must be 0 or more"),
        ({"kind": "attempts_in_days", "limit": 7, "days": 0}, "`days` must be 1 or more"),
        ({"kind": "quiet_hours", "quiet_from": time(8), "quiet_until": time(8)}, "are equal"),
        ({"kind": "opt_out", "channels": frozenset({"fax"})}, "unknown channels ['fax']"),
        ({"kind": "third_party_refused", "outcomes": frozenset({"maybe"})}, "unknown outcomes"),
    ],
)
def test_a_rule_refuses_missing_or_bad_parameters(params: dict[str, object], message: str) -> None:
    with pytest.raises(DomainError, match=r"^xx\.rule: ") as raised:
        ContactRule("xx.rule", source="a law", verified=True, **params)  # type: ignore[arg-type]
    assert message in str(raised.value)

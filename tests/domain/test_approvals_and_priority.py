"""Approval limits by role at their boundaries, and queue priority points."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from arrears.domain.access import Role
from arrears.domain.approvals import (
    BORROWER_LIMITS,
    Proposal,
    ProposalKind,
    within,
    within_limits,
)
from arrears.domain.errors import DomainError
from arrears.domain.queue_priority import QueueFacts, QueueScale, priority

K = ProposalKind
BY = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("role", "proposal", "inside"),
    [
        (Role.COLLECTOR, Proposal(K.PLAN, 10_000, months=6), True),
        (Role.COLLECTOR, Proposal(K.PLAN, 10_000, months=7), False),
        (Role.SUPERVISOR, Proposal(K.PLAN, 10_000, months=12), True),
        (Role.SUPERVISOR, Proposal(K.PLAN, 10_000, months=13), False),
        (Role.COLLECTOR, Proposal(K.EXTENSION, 10_000, days=30), True),
        (Role.COLLECTOR, Proposal(K.EXTENSION, 10_000, days=31), False),
        (Role.COLLECTOR, Proposal(K.SETTLEMENT, 10_000, pay=9_000, by=BY), True),  # 10 % waived
        (Role.COLLECTOR, Proposal(K.SETTLEMENT, 10_000, pay=8_999, by=BY), False),
        (Role.SUPERVISOR, Proposal(K.SETTLEMENT, 10_000, pay=7_000, by=BY), True),  # 30 %
        (Role.SUPERVISOR, Proposal(K.SETTLEMENT, 10_000, pay=6_999, by=BY), False),
        (Role.AGENCY, Proposal(K.SETTLEMENT, 10_000, pay=9_999, by=BY), False),  # proposes none
        (Role.ADMIN, Proposal(K.SETTLEMENT, 10_000, pay=1, by=BY), True),
        (Role.COMPLIANCE, Proposal(K.PLAN, 10_000, months=2), False),  # no limit of its own
    ],
)
def test_limits_at_their_boundaries(role: Role, proposal: Proposal, inside: bool) -> None:
    assert within_limits(role, proposal) is inside


def test_an_extension_is_limited_with_those_granted_before_it() -> None:
    extension = Proposal(K.EXTENSION, 10_000, days=10)
    assert within_limits(Role.COLLECTOR, extension, extended=20) is True
    assert within_limits(Role.COLLECTOR, extension, extended=21) is False
    assert within_limits(Role.SUPERVISOR, extension, extended=80) is True


def test_a_borrowers_own_request_is_granted_within_less_than_a_collectors() -> None:
    assert within(BORROWER_LIMITS, Proposal(K.PLAN, 10_000, months=6)) is True
    assert within(BORROWER_LIMITS, Proposal(K.PLAN, 10_000, months=7)) is False
    assert within(BORROWER_LIMITS, Proposal(K.EXTENSION, 10_000, days=15)) is True
    assert within(BORROWER_LIMITS, Proposal(K.EXTENSION, 10_000, days=5), extended=10) is True
    assert within(BORROWER_LIMITS, Proposal(K.EXTENSION, 10_000, days=5), extended=11) is False
    # No waiver at all: a settlement paying all but a fen is still one for a person.
    assert within(BORROWER_LIMITS, Proposal(K.SETTLEMENT, 10_000, pay=9_999, by=BY)) is False
    assert within(None, Proposal(K.PLAN, 10_000, months=2)) is False


def test_a_settlement_says_what_is_waived() -> None:
    assert Proposal(K.SETTLEMENT, 10_000, pay=7_500, by=BY).waived == 2_500
    assert Proposal(K.PLAN, 10_000, months=3).waived == 0


def test_a_settlement_waives_all_the_loan_owes_not_only_what_is_past_due() -> None:
    # 100.00 past due of 1,000.00 owed: paying 90.00 waives 910.00, beyond a collector's
    # 10 %; the lump sum may be up to all that is owed.
    offer = Proposal(K.SETTLEMENT, 10_000, pay=9_000, by=BY, owed=100_000)
    assert offer.waived == 91_000
    assert within_limits(Role.COLLECTOR, offer) is False
    assert within_limits(Role.ADMIN, offer) is True
    assert Proposal(K.SETTLEMENT, 10_000, pay=100_000, by=BY, owed=100_000).waived == 0
    assert offer.terms == {"pay": 9_000, "by": "2026-03-31"}


def test_a_settlements_deadline_is_from_the_day_it_takes_effect_to_180_days_after() -> None:
    offer = Proposal(K.SETTLEMENT, 10_000, pay=9_000, by=BY)
    offer.refuse_deadline(BY)  # paid on its day: counted
    with pytest.raises(DomainError, match="2026-03-31 is before the day it takes effect"):
        offer.refuse_deadline(date(2026, 4, 1))
    offer.refuse_deadline(BY - timedelta(days=180))
    with pytest.raises(
        DomainError, match=r"at most 180 days .* \(2026-03-31 is after 2026-03-30\)"
    ):
        offer.refuse_deadline(BY - timedelta(days=181))


@pytest.mark.parametrize(
    ("proposal", "message"),
    [
        (lambda: Proposal(K.PLAN, 0, months=3), "nothing is past due"),
        (lambda: Proposal(K.PLAN, 100, months=1), "2 to 36 months"),
        (lambda: Proposal(K.EXTENSION, 100, days=181), "1 to 180 days"),
        (lambda: Proposal(K.SETTLEMENT, 100, pay=101, by=BY), "at most what the loan owes"),
        (lambda: Proposal(K.SETTLEMENT, 100, pay=50), "needs a deadline"),
        (lambda: Proposal(K.SETTLEMENT, 100, pay=0, by=BY), "more than nothing"),
    ],
)
def test_impossible_proposals_are_refused(proposal: object, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        proposal()  # type: ignore[operator]


def test_priority_points_by_part() -> None:
    points = priority(QueueFacts(overdue_minor=1_000_000, dpd=40, broken_promises=5, score=0.5))
    assert (points.amount, points.dpd, points.promises, points.score) == (800, 200, 900, 200)
    assert points.total == 2_100
    assert priority(QueueFacts(0, 400, 0)).dpd == 900  # capped at 180 days


def test_a_broken_promise_outranks_a_few_more_days() -> None:
    promised = priority(QueueFacts(50_000, 30, 1)).total
    later = priority(QueueFacts(50_000, 60, 0)).total
    assert promised > later


def test_amounts_in_other_currencies_count_in_the_reference_at_the_rate() -> None:
    scale = QueueScale("CNY", {"USD": Decimal("7.1"), "JPY": Decimal("0.0475")})
    assert scale.minor(1_000_00, "USD") == 7_100_00
    assert scale.minor(1, "JPY") == 0  # 0.0475 rounds half up to 0
    assert scale.minor(11, "JPY") == 1  # 0.5225
    assert scale.minor(5_00, "EUR") == 5_00  # no rate: one to one
    # 1,000 USD outranks 1,000 CNY by the step of a sevenfold larger debt.
    usd = priority(QueueFacts(scale.minor(1_000_00, "USD"), 30, 0)).amount
    cny = priority(QueueFacts(scale.minor(1_000_00, "CNY"), 30, 0)).amount
    assert (usd, cny) == (770, 600)

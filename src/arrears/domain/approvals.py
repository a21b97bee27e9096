"""Repayment plans, extensions and settlements: what each role may grant on its own, and
what goes to a supervisor (or an administrator) for approval.

The limits are lender policy, not law (PRODUCT.md capability 7: "approval limits"); the
defaults below follow common practice of Chinese consumer lenders' collection desks, where a
collector may restructure within half a year and waive little, and larger concessions need a
second pair of eyes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from arrears.domain.access import Role
from arrears.domain.errors import Refusal, Words
from arrears.domain.money import format_amount


class ProposalKind(StrEnum):
    """What is offered to the borrower."""

    PLAN = "plan"  # the overdue amount repaid in monthly parts
    EXTENSION = "extension"  # the due date moved later
    SETTLEMENT = "settlement"  # a lump sum now, the rest waived


@dataclass(frozen=True)
class Limits:
    """The most a role grants without approval."""

    plan_months: int
    extension_days: int
    waiver_share: Fraction  # of what the loan owes (a settlement waives all the rest)


LIMITS: dict[Role, Limits] = {
    Role.COLLECTOR: Limits(plan_months=6, extension_days=30, waiver_share=Fraction(1, 10)),
    Role.SUPERVISOR: Limits(plan_months=12, extension_days=90, waiver_share=Fraction(3, 10)),
    Role.ADMIN: Limits(plan_months=36, extension_days=180, waiver_share=Fraction(1)),
}
# What a borrower is granted at once when they ask in the portal (docs/PORTAL.md), lender
# policy like the desk's: less than a collector grants (a plan of six months, extensions of 15
# days in all), and no waiver (a settlement is negotiated with a person, never self-served).
BORROWER_LIMITS = Limits(plan_months=6, extension_days=15, waiver_share=Fraction(0))
# The kinds a borrower may ask for in the portal.
SELF_SERVED = (ProposalKind.PLAN, ProposalKind.EXTENSION)
# Who approves what is above a proposer's limits (the supervisor, else the administrator).
APPROVERS = (Role.SUPERVISOR, Role.ADMIN)
MAX_PLAN_MONTHS, MAX_EXTENSION_DAYS = 36, 180
# A settlement's lump sum is paid by a deadline at most this many days after it takes effect:
# a waiver kept on offer longer than the longest extension anyone grants would be a longer
# extension with a waiver beside it.
MAX_SETTLEMENT_DAYS = MAX_EXTENSION_DAYS
# The terms each kind is made of (the first its size); the others' do not apply to it and
# are never stored (an approved extension that also said 36 months would read as a plan to
# whoever reads it). A settlement's: the lump sum and the last day it may be paid (`by`).
TERMS = {ProposalKind.PLAN: ("months",), ProposalKind.EXTENSION: ("days",),
         ProposalKind.SETTLEMENT: ("pay", "by")}  # fmt: skip
TERM = {kind: names[0] for kind, names in TERMS.items()}


def refuse_foreign_terms(kind: ProposalKind, sent: Iterable[str]) -> None:
    """Refuse the terms sent that belong to another kind of proposal, naming them."""
    every = {name for names in TERMS.values() for name in names}
    foreign = sorted(set(sent) & every - set(TERMS[kind]))
    if foreign:
        raise Refusal(
            "{fields}: not a term of a proposal of kind {kind} (its term is {term})",
            fields=", ".join(foreign),
            kind=kind.value,
            term=", ".join(TERMS[kind]),
        )


@dataclass(frozen=True)
class Proposal:
    """An offer on a case: its kind, size and what the lender gives up."""

    kind: ProposalKind
    overdue: int  # minor units past due when proposed
    months: int = 0  # plan
    days: int = 0  # extension
    pay: int = 0  # settlement: the lump sum
    by: date | None = None  # settlement: the last day the lump sum may be paid
    owed: int = 0  # minor units the loan owes when proposed (0: `overdue`), all of it due

    @property
    def owing(self) -> int:
        """What the loan owes when proposed: what a settlement waives the rest of."""
        return self.owed or self.overdue

    def __post_init__(self) -> None:
        if self.overdue <= 0:
            raise Refusal("nothing is past due on this case: there is nothing to restructure")
        if self.kind is ProposalKind.PLAN and not 2 <= self.months <= MAX_PLAN_MONTHS:
            raise Refusal(
                "a plan runs 2 to {most} months, not {months}",
                most=str(MAX_PLAN_MONTHS),
                months=str(self.months),
            )
        if self.kind is ProposalKind.EXTENSION and not 1 <= self.days <= MAX_EXTENSION_DAYS:
            raise Refusal(
                "an extension is 1 to {most} days, not {days}",
                most=str(MAX_EXTENSION_DAYS),
                days=str(self.days),
            )
        if self.kind is not ProposalKind.SETTLEMENT:
            return
        if not 0 < self.pay <= self.owing:
            raise Refusal(
                "a settlement's lump sum (pay) must be more than nothing and at most what the "
                "loan owes ({owed}), not {pay}",
                # In major units, as the form and the API take it (helper-124: it spoke fen).
                owed=format_amount(self.owing),
                pay=format_amount(self.pay),
            )
        if self.by is None:
            raise Refusal(
                "a settlement needs a deadline (by): the last day its lump sum may be paid"
            )

    def refuse_deadline(self, today: date) -> None:
        """Refuse a settlement whose deadline is before `today`, the day it would take effect
        (its payments count from then: docs/MONEY_RULES.md, "Settlements"), or more than
        MAX_SETTLEMENT_DAYS after it."""
        if self.kind is not ProposalKind.SETTLEMENT or self.by is None:
            return
        if self.by < today:
            raise Refusal(
                "a settlement's deadline (by) {by} is before the day it takes effect, {today}",
                by=self.by.isoformat(),
                today=today.isoformat(),
            )
        last = today + timedelta(days=MAX_SETTLEMENT_DAYS)
        if self.by > last:
            raise Refusal(
                "a settlement's deadline (by) is at most {days} days after the day it takes "
                "effect ({by} is after {last})",
                days=str(MAX_SETTLEMENT_DAYS),
                by=self.by.isoformat(),
                last=last.isoformat(),
            )

    @property
    def terms(self) -> dict[str, int | str]:
        """The proposal's own terms, as stored: months, days or the lump sum (minor units)
        and its deadline (ISO day)."""
        if self.kind is ProposalKind.SETTLEMENT:
            assert self.by is not None
            return {"pay": int(self.pay), "by": self.by.isoformat()}
        name = TERM[self.kind]
        return {name: int(getattr(self, name))}

    @property
    def waived(self) -> int:
        """What the lender gives up (minor units): a settlement, all the loan owes but its
        lump sum."""
        return self.owing - self.pay if self.kind is ProposalKind.SETTLEMENT else 0


def within_limits(role: Role, proposal: Proposal, extended: int = 0) -> bool:
    """Whether the role may grant the proposal on its own; `extended`: the days of the
    extensions already granted on the case (an extension's limit is on their total, so two
    of 30 days are not granted where one of 60 needs a supervisor)."""
    return within(LIMITS.get(role), proposal, extended)


def within(limits: Limits | None, proposal: Proposal, extended: int = 0) -> bool:
    """Whether `limits` grant the proposal (None: nothing), as within_limits."""
    if limits is None:
        return False
    if proposal.kind is ProposalKind.PLAN:
        return proposal.months <= limits.plan_months
    if proposal.kind is ProposalKind.EXTENSION:
        return extended + proposal.days <= limits.extension_days
    return Fraction(proposal.waived, proposal.owing) <= limits.waiver_share


def limit_words(role: Role, kind: ProposalKind) -> Words:
    """The role's limit for a kind, in words (shown when a proposal is routed for approval)."""
    return limits_words(LIMITS.get(role), kind)


def limits_words(limits: Limits | None, kind: ProposalKind) -> Words:
    """A limit for a kind, in words (None: no limit of its own)."""
    if limits is None:
        return Words("no limit of its own")
    if kind is ProposalKind.PLAN:
        return Words("plans up to {months} months", {"months": str(limits.plan_months)})
    if kind is ProposalKind.EXTENSION:
        return Words("extensions up to {days} days in all", {"days": str(limits.extension_days)})
    share = f"{float(limits.waiver_share):.0%}"
    return Words("waivers up to {share} of what the loan owes", {"share": share})


def limit_text(limits: Limits | None, kind: ProposalKind) -> str:
    """A limit for a kind, in English (the API's and the audit's words)."""
    return str(limits_words(limits, kind))

"""Collection actions, their recorded outcomes, and the guards that put gentle steps first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from arrears.domain.contact import ALL_OUTCOMES
from arrears.domain.day_range import MAX_DAYS
from arrears.domain.errors import DomainError

if TYPE_CHECKING:
    from arrears.domain.ladder import Ladder

ACTIONS = (
    "sms", "call", "email", "letter", "formal_notice", "credit_pre_notice", "agency_placement",
    "agency_recall", "field_visit_request", "lawyers_letter", "legal_review",
)  # fmt: skip
# The steps that press hardest on a borrower: a ladder that uses one must guard it, because the
# seeds put 上门 and legal letters only "在其他温和手段无效后" (after gentler means failed).
GUARDED_ACTIONS = frozenset({"field_visit_request", "lawyers_letter", "legal_review"})
# A field visit is only ever requested by the ladder; a supervisor approves it (PRODUCT.md).
APPROVED_ACTIONS = frozenset({"field_visit_request"})
# Every outcome a contact can end in (a call to an invalid number too: it is on record and
# must not break the guards that read the record), and the outcomes of the run's own actions.
OUTCOMES = tuple(dict.fromkeys((
    "done", "sent", "delivered", "failed", "no_answer", "busy", "connected", "refused",
    "promise", "bounced", *ALL_OUTCOMES,
)))  # fmt: skip
DONE_OUTCOMES = ("done", "sent", "delivered")


def done_since(records: Sequence[ActionRecord], since: date) -> frozenset[str]:
    """The actions on record as done (DONE_OUTCOMES) on or after `since`."""
    return frozenset(r.action for r in records if r.outcome in DONE_OUTCOMES and r.on >= since)


def check_action(action: str) -> None:
    """Refuse an action outside the closed set."""
    if action not in ACTIONS:
        raise DomainError(f"action {action!r} is unknown (known: {', '.join(ACTIONS)})")


@dataclass(frozen=True)
class ActionRecord:
    """One action taken on a case, on a day, with its outcome."""

    action: str
    on: date
    outcome: str

    def __post_init__(self) -> None:
        check_action(self.action)
        if self.outcome not in OUTCOMES:
            raise DomainError(f"outcome {self.outcome!r} is unknown (known: {', '.join(OUTCOMES)})")


@dataclass(frozen=True)
class Requirement:
    """A gentler step that must be on record: at least N of an action with given outcomes."""

    action: str
    outcomes: tuple[str, ...] = DONE_OUTCOMES
    at_least: int = 1
    distinct_days: int = 1
    within_days: int | None = None

    def __post_init__(self) -> None:
        check_action(self.action)
        if not self.outcomes:
            raise DomainError("outcomes must not be empty")
        unknown = [o for o in self.outcomes if o not in OUTCOMES]
        if unknown:
            raise DomainError(f"outcome(s) {unknown} unknown (known: {', '.join(OUTCOMES)})")
        for key in ("at_least", "distinct_days", "within_days"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise DomainError(f"{key} must be at least 1, got {value}")
        if self.within_days is not None and self.within_days > MAX_DAYS:
            raise DomainError(f"within_days must be at most {MAX_DAYS}, got {self.within_days}")
        # The window holds its `within_days` days before today and today itself.
        if self.within_days is not None and self.distinct_days > self.within_days + 1:
            raise DomainError(
                f"{self.action}: distinct_days {self.distinct_days} cannot fit in the last "
                f"{self.within_days} days (at most {self.within_days + 1} days): never met"
            )

    def describe(self) -> str:
        """The requirement in words: 'call failed|no_answer ≥ 6 on ≥ 3 days in the last 60 days'."""
        text = f"{self.action} {'|'.join(self.outcomes)}"
        if self.at_least > 1:
            text += f" ≥ {self.at_least}"
        if self.distinct_days > 1:
            text += f" on ≥ {self.distinct_days} days"
        if self.within_days is not None:
            text += f" in the last {self.within_days} days"
        return text

    def check(self, history: Sequence[ActionRecord], as_of: date) -> tuple[bool, str]:
        """Whether the history meets the requirement by `as_of`, and what was found."""
        since = None if self.within_days is None else as_of - timedelta(days=self.within_days)
        found = [
            r.on
            for r in history
            if r.action == self.action
            and r.outcome in self.outcomes
            and r.on <= as_of  # a record dated after as_of did not exist yet
            and (since is None or r.on >= since)
        ]
        days = len(set(found))
        met = len(found) >= self.at_least and days >= self.distinct_days
        seen = f"found {len(found)} on {days} day(s)" if found else "found none"
        return met, f"{'met' if met else 'missing'}: {self.describe()} ({seen})"


@dataclass(frozen=True)
class Guard:
    """The steps an action requires first, and whether a supervisor must approve it."""

    action: str
    requires: tuple[Requirement, ...] = ()
    approval: bool | None = None  # None: the action's default (field visits always need it)

    def __post_init__(self) -> None:
        check_action(self.action)
        if self.approval is False and self.action in APPROVED_ACTIONS:
            raise DomainError(f"{self.action} always needs approval; approval cannot be false")
        if self.approval and self.action not in APPROVED_ACTIONS:
            # Only a visit is requested and then approved by someone else (PRODUCT.md): a step
            # taken at once, by the night or at the desk, has no one to approve it, and its
            # guard would refuse it for ever.
            raise DomainError(
                f"{self.action} has no approval step (only "
                f"{', '.join(sorted(APPROVED_ACTIONS))} is requested, then approved): "
                f"approval cannot be true"
            )
        for requirement in self.requires:
            if requirement.action == self.action:
                raise DomainError(f"{self.action} cannot require itself")
        if self.action in GUARDED_ACTIONS and not self.requires:
            # A guard that requires nothing lets the heavy step go first (see GUARDED_ACTIONS).
            raise DomainError(
                f"{self.action} must require at least one gentler step on record (requires)"
            )

    @property
    def needs_approval(self) -> bool:
        """Whether a supervisor's approval is required on top of the prerequisites."""
        return bool(self.approval) or self.action in APPROVED_ACTIONS


@dataclass(frozen=True)
class GuardDecision:
    """Allowed or not, with a reason per prerequisite (the missing ones when refused), and
    the prerequisites met (`met`: refused or not)."""

    allowed: bool
    reasons: tuple[str, ...] = field(default=())
    met: tuple[str, ...] = field(default=())


def check_escalation(
    ladder: Ladder,
    action: str,
    history: Sequence[ActionRecord],
    as_of: date,
    *,
    approved: bool = False,
    stage: str | None = None,
) -> GuardDecision:
    """May `action` be taken on `as_of` given the case's history? Names every missing step."""
    check_action(action)
    missing: list[str] = []
    met: list[str] = []
    if stage is not None and not ladder.offers(stage, action):
        missing.append(f"missing: {action} is not offered in stage {stage!r}")
    guard = ladder.guard_for(action)
    if guard is None:
        if action in GUARDED_ACTIONS:
            missing.append(f"missing: a guard for {action} in ladder {ladder.label}")
        else:
            met.append(f"met: {action} needs no earlier step")
    else:
        for requirement in guard.requires:
            ok, reason = requirement.check(history, as_of)
            (met if ok else missing).append(reason)
        if guard.needs_approval:
            if approved:
                met.append("met: approved by a supervisor")
            else:
                missing.append("missing: supervisor approval")
    return GuardDecision(not missing, tuple(missing or met), tuple(met))

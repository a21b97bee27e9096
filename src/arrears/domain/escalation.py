"""Collection actions, their recorded outcomes, and the guards that put gentle steps first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from arrears.domain.contact import ALL_OUTCOMES
from arrears.domain.day_range import MAX_DAYS
from arrears.domain.errors import DomainError, Term, Terms, Words

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
# The action that ends a standing one (`Requirement.min_days`): a recall ends a placement.
ENDED_BY = {"agency_placement": "agency_recall"}


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
    # Only records that stood at least this many days count: from their day to the day the
    # action that ends them (ENDED_BY: a placement's recall) was done, else to `as_of`. A
    # placement made and recalled the same minute is no agency tried (lender policy).
    min_days: int | None = None

    def __post_init__(self) -> None:
        check_action(self.action)
        if not self.outcomes:
            raise DomainError("outcomes must not be empty")
        unknown = [o for o in self.outcomes if o not in OUTCOMES]
        if unknown:
            raise DomainError(f"outcome(s) {unknown} unknown (known: {', '.join(OUTCOMES)})")
        for key in ("at_least", "distinct_days", "within_days", "min_days"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise DomainError(f"{key} must be at least 1, got {value}")
        # A count or a day number past the product's whole range of days is a typing mistake
        # (`at_least = 30000` for 30): without a window it would pass as a guard never met.
        for key in ("at_least", "distinct_days", "within_days", "min_days"):
            value = getattr(self, key)
            if value is not None and value > MAX_DAYS:
                raise DomainError(f"{key} must be at most {MAX_DAYS}, got {value}")
        # The window holds its `within_days` days before today and today itself.
        if self.within_days is not None and self.distinct_days > self.within_days + 1:
            raise DomainError(
                f"{self.action}: distinct_days {self.distinct_days} cannot fit in the last "
                f"{self.within_days} days (at most {self.within_days + 1} days): never met"
            )
        # A record of the last `within_days` days has stood at most that many days.
        window, standing = self.within_days, self.min_days
        if window is not None and standing is not None and standing > window:
            raise DomainError(
                f"{self.action}: min_days {standing} cannot be met by a record of the last "
                f"{window} days: never met"
            )

    def describe(self) -> str:
        """The requirement in words: 'call failed|no_answer ≥ 6 on ≥ 3 days in the last 60 days'."""
        return str(self.words())

    def words(self) -> Words:
        """The requirement in words a page shows in its reader's language (describe)."""
        return _requirement_words(self)

    def _words(self) -> Words:
        at_least = Words(" ≥ {n}", {"n": str(self.at_least)}) if self.at_least > 1 else ""
        days = self.distinct_days
        on_days = Words(" on ≥ {days} days", {"days": str(days)}) if days > 1 else ""
        within = self.within_days
        window = Words(" in the last {days} days", {"days": str(within)}) if within else ""
        standing = self.min_days
        stood = Words(" standing ≥ {days} days", {"days": str(standing)}) if standing else ""
        return Words(
            "{action} {outcomes}{at_least}{on_days}{window}{standing}",
            {
                "action": action_term(self.action),
                "outcomes": Terms.of("outcome:", self.outcomes, "or", "|"),
                "at_least": at_least,
                "on_days": on_days,
                "window": window,
                "standing": stood,
            },
        )

    def check(self, history: Sequence[ActionRecord], as_of: date) -> tuple[bool, str]:
        """Whether the history meets the requirement by `as_of`, and what was found."""
        met, words = self.checked(history, as_of)
        return met, str(words)

    def checked(self, history: Sequence[ActionRecord], as_of: date) -> tuple[bool, Words]:
        """Whether the history meets the requirement by `as_of`, and what was found, in words
        (check's, which a page shows in its reader's language)."""
        since = None if self.within_days is None else as_of - timedelta(days=self.within_days)
        found = [
            r.on
            for r in history
            if r.action == self.action
            and r.outcome in self.outcomes
            and r.on <= as_of  # a record dated after as_of did not exist yet
        ]
        if self.min_days is not None:
            ends = _ends(sorted(found), history, self.action, as_of)
            found = [on for on, end in ends if (end - on).days >= self.min_days]
        found = [on for on in found if since is None or on >= since]
        days = len(set(found))
        met = len(found) >= self.at_least and days >= self.distinct_days
        return met, _reason(self, met, len(found), days)


def _ends(
    days: Sequence[date], history: Sequence[ActionRecord], action: str, as_of: date
) -> list[tuple[date, date]]:
    """Each record's day (`days`, in order) with the day it stopped standing: the day of the
    ending action (ENDED_BY) that ended it, else `as_of`. Each ending action done by `as_of`
    ends the oldest record still standing on its day (a day's records carry no time, so a
    placement and a recall of one day pair up: placed and recalled at once)."""
    ender = ENDED_BY.get(action)
    endings = sorted(
        r.on
        for r in history
        if ender is not None and r.action == ender and r.outcome in DONE_OUTCOMES
        and r.on <= as_of
    )  # fmt: skip
    ends = [as_of] * len(days)
    standing = 0  # records before this index are ended
    for end in endings:
        if standing < len(days) and days[standing] <= end:
            ends[standing] = end
            standing += 1
    return list(zip(days, ends, strict=True))


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
    the prerequisites met (`met`: refused or not), in words a page shows in its reader's
    language (`words`, `met_words`) and in English (`reasons`, `met`: said when asked, as the
    night's plan asks only of the refused)."""

    allowed: bool
    words: tuple[Words, ...] = field(default=())
    met_words: tuple[Words, ...] = field(default=())

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons in English."""
        return tuple(str(w) for w in self.words)

    @property
    def met(self) -> tuple[str, ...]:
        """The prerequisites met, in English."""
        return tuple(str(w) for w in self.met_words)


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
    missing: list[Words] = []
    met: list[Words] = []
    named = action_term(action)
    if stage is not None and not ladder.offers(stage, action):
        missing.append(
            Words(
                "missing: {action} is not offered in stage {stage}",
                {"action": named, "stage": repr(stage)},
            )
        )
    guard = ladder.guard_for(action)
    if guard is None:
        if action in GUARDED_ACTIONS:
            missing.append(
                Words(
                    "missing: a guard for {action} in ladder {ladder}",
                    {"action": named, "ladder": ladder.label},
                )
            )
        else:
            met.append(Words("met: {action} needs no earlier step", {"action": named}))
    else:
        for requirement in guard.requires:
            ok, reason = requirement.checked(history, as_of)
            (met if ok else missing).append(reason)
        if guard.needs_approval:
            if approved:
                met.append(Words("met: approved by a supervisor"))
            else:
                missing.append(Words("missing: supervisor approval"))
    return GuardDecision(not missing, tuple(missing or met), tuple(met))


@lru_cache(maxsize=4096)
def _reason(requirement: Requirement, met: bool, found: int, days: int) -> Words:
    """A requirement met or missing, and what was found, in words: made once for each count
    (the night's plan asks the same guards of thousands of loans, which find the same)."""
    seen = (
        Words("found {n} on {days} day(s)", {"n": str(found), "days": str(days)})
        if found
        else Words("found none")
    )
    values = {"requirement": requirement.words(), "seen": seen}
    if met:
        return Words("met: {requirement} ({seen})", values)
    return Words("missing: {requirement} ({seen})", values)


@cache
def _requirement_words(requirement: Requirement) -> Words:
    """A requirement's words, made once (they do not depend on the history)."""
    return requirement._words()


def action_term(action: str) -> Term:
    """An action as a word of a message (named from the catalogue on a page)."""
    return Term(f"action:{action}", action)

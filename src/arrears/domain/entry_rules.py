"""Stage entry rules: the facts stage assignment looks at, matching, and reachability."""

from collections.abc import Sequence
from dataclasses import dataclass, fields

from arrears.domain.day_range import MAX_AMOUNT, MAX_DAYS
from arrears.domain.delinquency import BUCKETS, bucket_days
from arrears.domain.errors import DomainError
from arrears.domain.flags import check_flag
from arrears.domain.money import format_amount

_OPEN = float("inf")


@dataclass(frozen=True)
class LoanFacts:
    """What stage assignment looks at for one loan on one day (amounts in minor units)."""

    loan_id: str
    dpd: int
    overdue_total: int
    outstanding_principal: int
    bucket: str
    settled: bool = False
    days_to_next_due: int | None = None
    segment: str | None = None
    score: int | None = None
    flags: frozenset[str] = frozenset()  # set by people (domain.flags), e.g. "legal"


def _span(low: object, high: object) -> str:
    """A bound in words: 'in 31..90', '≥ 181', '≤ 0'."""
    if low is None:
        return f"≤ {high}"
    return f"≥ {low}" if high is None else f"in {low}..{high}"


def _inside(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _contains(outer: tuple[int | None, int | None], inner: tuple[int | None, int | None]) -> bool:
    """Whether interval `outer` holds all of `inner` (None = open end)."""
    low_ok = outer[0] is None or (inner[0] is not None and inner[0] >= outer[0])
    high_ok = outer[1] is None or (inner[1] is not None and inner[1] <= outer[1])
    return low_ok and high_ok


def _subset(outer: frozenset[str] | None, inner: frozenset[str] | None) -> bool:
    return outer is None or (inner is not None and inner <= outer)


@dataclass(frozen=True)
class EntryRule:
    """Conditions that must all hold (None = any); bounds are inclusive."""

    dpd_min: int | None = None
    dpd_max: int | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    score_min: int | None = None
    score_max: int | None = None
    segments: frozenset[str] | None = None
    buckets: frozenset[str] | None = None
    flags: frozenset[str] = frozenset()
    due_within: int | None = None

    def __post_init__(self) -> None:
        for key in ("segments", "buckets"):
            if getattr(self, key) == frozenset():
                raise DomainError(f"{key} must not be empty (leave it out to match any)")
        if all(getattr(self, f.name) in (None, frozenset()) for f in fields(self)):
            raise DomainError("an entry rule needs at least one condition")
        for name in ("dpd", "amount", "score"):
            low, high = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            if low is not None and high is not None and low > high:
                raise DomainError(f"{name}_min {low} > {name}_max {high}: the rule can never match")
        for key in ("dpd_min", "dpd_max", "amount_min", "amount_max", "due_within"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise DomainError(f"{key} must not be negative, got {value}")
        for key, most in (("dpd_min", MAX_DAYS), ("dpd_max", MAX_DAYS),
                          ("due_within", MAX_DAYS), ("amount_min", MAX_AMOUNT),
                          ("amount_max", MAX_AMOUNT), ("score_min", MAX_AMOUNT),
                          ("score_max", MAX_AMOUNT)):  # fmt: skip
            value = getattr(self, key)
            if value is not None and abs(value) > most:
                raise DomainError(f"{key} must be at most {most} in size, got {value}")
        if self.buckets is not None and not self.buckets <= set(BUCKETS):
            unknown = sorted(self.buckets - set(BUCKETS))
            raise DomainError(f"bucket(s) {unknown} unknown (known: {', '.join(BUCKETS)})")
        if self.buckets is not None and not any(map(self._meets, self.buckets)):
            raise DomainError(
                f"bucket(s) {sorted(self.buckets)} are never at dpd {self.dpd_min or 0}.."
                f"{'' if self.dpd_max is None else self.dpd_max}: the rule can never match"
            )
        for flag in sorted(self.flags):
            check_flag(flag)  # a flag nothing sets would never match

    def _meets(self, bucket: str) -> bool:
        """Whether a loan in `bucket` may be inside the rule's dpd range (any grace)."""
        low, high = bucket_days(bucket)
        return (self.dpd_max is None or low <= self.dpd_max) and (
            high is None or self.dpd_min is None or self.dpd_min <= high
        )

    def matches(self, facts: LoanFacts) -> bool:
        """Whether every condition holds for the loan."""
        due = facts.days_to_next_due
        return (
            _inside(facts.dpd, self.dpd_min, self.dpd_max)
            and _inside(facts.overdue_total, self.amount_min, self.amount_max)
            and self._score_matches(facts.score)
            and (self.segments is None or facts.segment in self.segments)
            and (self.buckets is None or facts.bucket in self.buckets)
            and self.flags <= facts.flags
            and (self.due_within is None or (due is not None and 0 <= due <= self.due_within))
        )

    def _score_matches(self, score: int | None) -> bool:
        if self.score_min is None and self.score_max is None:
            return True
        # A score bound asks for a scored loan: an unscored one does not match it.
        return score is not None and _inside(score, self.score_min, self.score_max)

    def reads(self) -> frozenset[str]:
        """The LoanFacts fields this rule looks at, to match and to describe."""
        read = {
            "dpd": (self.dpd_min, self.dpd_max) != (None, None),
            "overdue_total": (self.amount_min, self.amount_max) != (None, None),
            "score": (self.score_min, self.score_max) != (None, None),
            "segment": self.segments is not None,
            "bucket": self.buckets is not None,
            "flags": bool(self.flags),
            "days_to_next_due": self.due_within is not None,
        }
        return frozenset(name for name, used in read.items() if used)

    def describe(self, facts: LoanFacts) -> str:
        """Why the rule matched, in words: 'dpd 52 in 31..90, bucket M2'."""
        parts = []
        if (self.dpd_min, self.dpd_max) != (None, None):
            parts.append(f"dpd {facts.dpd} {_span(self.dpd_min, self.dpd_max)}")
        if (self.amount_min, self.amount_max) != (None, None):
            low, high = (None if a is None else format_amount(a) for a in self.amount_bounds)
            parts.append(f"overdue {format_amount(facts.overdue_total)} {_span(low, high)}")
        if (self.score_min, self.score_max) != (None, None):
            parts.append(f"score {facts.score} {_span(self.score_min, self.score_max)}")
        if self.segments is not None:
            parts.append(f"segment {facts.segment}")
        if self.buckets is not None:
            parts.append(f"bucket {facts.bucket}")
        if self.flags:
            parts.append(f"flag {', '.join(sorted(self.flags))}")
        if self.due_within is not None:
            parts.append(f"due in {facts.days_to_next_due} day(s) ≤ {self.due_within}")
        return ", ".join(parts)

    @property
    def amount_bounds(self) -> tuple[int | None, int | None]:
        """The overdue-total bounds (minor units)."""
        return self.amount_min, self.amount_max

    def covers_all_but_dpd(self, other: "EntryRule") -> bool:
        """Whether every loan `other` matches meets this rule's conditions other than dpd."""
        score = (self.score_min, self.score_max)
        return (
            _contains(self.amount_bounds, other.amount_bounds)
            and (score == (None, None) or _contains(score, (other.score_min, other.score_max)))
            and _subset(self.segments, other.segments)
            and _subset(self.buckets, other.buckets)
            and self.flags <= other.flags
            and (
                self.due_within is None
                or (other.due_within is not None and other.due_within <= self.due_within)
            )
        )


def shadowed_by(rule: EntryRule, earlier: Sequence[tuple[str, EntryRule]]) -> list[str] | None:
    """The earlier stages that take every loan `rule` matches (first match wins), else None."""
    # Sound but not complete: it finds rules hidden behind earlier rules that are at least as
    # wide on every condition but dpd, whose dpd ranges together cover this rule's dpd range.
    covering = sorted(
        (r.dpd_min or 0, _OPEN if r.dpd_max is None else r.dpd_max, stage)
        for stage, r in earlier
        if r.covers_all_but_dpd(rule)
    )
    low, high = rule.dpd_min or 0, _OPEN if rule.dpd_max is None else rule.dpd_max
    reach: float = low  # the first dpd not yet covered
    stages: list[str] = []
    for start, end, stage in covering:
        if start > reach:
            break
        if end >= reach:
            reach = end + 1
            stages.append(stage)
        if reach > high or end == _OPEN:
            return list(dict.fromkeys(stages))
    return None

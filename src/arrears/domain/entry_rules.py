"""Stage entry rules: the facts stage assignment looks at, matching, and reachability."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from arrears.domain.day_range import MAX_AMOUNT, MAX_DAYS
from arrears.domain.delinquency import BUCKETS, bucket_days
from arrears.domain.errors import Clauses, DomainError, Terms, Words
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
    lent: bool = True  # false before the contract date: the money is not lent yet


def _span(low: object, high: object) -> Words:
    """A bound in words: 'in 31..90', '≥ 181', '≤ 0'."""
    if low is None:
        return Words("≤ {high}", {"high": str(high)})
    if high is None:
        return Words("≥ {low}", {"low": str(low)})
    return Words("in {low}..{high}", {"low": str(low), "high": str(high)})


# Why a loan is in its stage, in words (assign_stage's reason): each part of an entry rule's,
# and the two reasons of no rule.
def _dpd(dpd: str, span: Words) -> Words:
    return Words("dpd {dpd} {span}", {"dpd": dpd, "span": span})


def _overdue(amount: str, span: Words) -> Words:
    return Words("overdue {amount} {span}", {"amount": amount, "span": span})


def _score(score: str, span: Words) -> Words:
    return Words("score {score} {span}", {"score": score, "span": span})


def _segment(segment: str) -> Words:
    return Words("segment {segment}", {"segment": segment})


def _bucket(bucket: str) -> Words:
    return Words("bucket {bucket}", {"bucket": bucket})


def _flags(flags: Sequence[str]) -> Words:
    return Words("flag {flags}", {"flags": Terms.of("flag:", flags)})


def _due(days: str, within: str) -> Words:
    return Words("due in {days} day(s) ≤ {within}", {"days": days, "within": within})


def settled_words() -> Clauses:
    """Why a paid-off loan is settled."""
    return Clauses((Words("loan settled"),))


def not_lent_words() -> Clauses:
    """Why a loan signed after the day is in no collection stage."""
    return Clauses((Words("loan not yet lent"),))


def unmatched_words(dpd: str) -> Clauses:
    """Why a loan no stage rule matches is in its ladder's default stage."""
    return Clauses((Words("no stage rule matched (dpd {dpd})", {"dpd": dpd}),))


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
        return str(self.words(facts))

    def words(self, facts: LoanFacts) -> Clauses:
        """Why the rule matched, in words a page shows in its reader's language (describe)."""
        parts = []
        if (self.dpd_min, self.dpd_max) != (None, None):
            parts.append(_dpd(str(facts.dpd), _span(self.dpd_min, self.dpd_max)))
        if (self.amount_min, self.amount_max) != (None, None):
            low, high = (None if a is None else format_amount(a) for a in self.amount_bounds)
            parts.append(_overdue(format_amount(facts.overdue_total), _span(low, high)))
        if (self.score_min, self.score_max) != (None, None):
            parts.append(_score(str(facts.score), _span(self.score_min, self.score_max)))
        if self.segments is not None:
            parts.append(_segment(str(facts.segment)))
        if self.buckets is not None:
            parts.append(_bucket(facts.bucket))
        if self.flags:
            parts.append(_flags(sorted(self.flags)))
        if self.due_within is not None:
            parts.append(_due(str(facts.days_to_next_due), str(self.due_within)))
        return Clauses(tuple(parts), ", ")

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


# A reason as the run stored it, read back (reason_words): each part starts with one of these
# (the part's words from its fields); a piece that does not continues the part before it (a
# list of flags, a segment with a comma in its name).
_SPAN = r"(?:≤ (?P<high>\S+)|≥ (?P<low>\S+)|in (?P<from>\S+)\.\.(?P<to>\S+))"
_PARTS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], Words]], ...] = (
    ("dpd ", re.compile(rf"dpd (?P<n>-?\d+) {_SPAN}"), lambda m: _dpd(m["n"], _span_of(m))),
    ("overdue ", re.compile(rf"overdue (?P<n>\S+) {_SPAN}"),
     lambda m: _overdue(m["n"], _span_of(m))),
    ("score ", re.compile(rf"score (?P<n>\S+) {_SPAN}"), lambda m: _score(m["n"], _span_of(m))),
    ("segment ", re.compile(r"segment (?P<n>.*)"), lambda m: _segment(m["n"])),
    ("bucket ", re.compile(r"bucket (?P<n>\S+)"), lambda m: _bucket(m["n"])),
    ("flag ", re.compile(r"flag (?P<n>.+)"), lambda m: _flags(m["n"].split(", "))),
    ("due in ", re.compile(r"due in (?P<n>\S+) day\(s\) ≤ (?P<within>\S+)"),
     lambda m: _due(m["n"], m["within"])),
)  # fmt: skip
_UNMATCHED = re.compile(r"no stage rule matched \(dpd (?P<dpd>-?\d+)\)")


def reason_words(reason: str) -> Clauses | None:
    """Why a loan is in its stage, as the run stored it (assign_stage's reason), read back into
    its words; None for a text not worded so (one stored by an older release: shown as it is)."""
    for fixed in (settled_words(), not_lent_words()):
        if reason == str(fixed):
            return fixed
    unmatched = _UNMATCHED.fullmatch(reason)
    if unmatched is not None:
        return unmatched_words(unmatched["dpd"])
    starts = tuple(start for start, _, _ in _PARTS)
    pieces: list[str] = []
    for piece in reason.split(", "):
        if piece.startswith(starts):
            pieces.append(piece)
        elif pieces:
            pieces[-1] += ", " + piece
        else:
            return None
    parts = []
    for piece in pieces:
        found = next(
            (said(m) for _, pattern, said in _PARTS if (m := pattern.fullmatch(piece))), None
        )
        if found is None:
            return None
        parts.append(found)
    return Clauses(tuple(parts), ", ")


def _span_of(found: re.Match[str]) -> Words:
    """A bound read back: the one of the three forms that matched."""
    if found["high"] is not None:
        return _span(None, found["high"])
    if found["low"] is not None:
        return _span(found["low"], None)
    return _span(found["from"], found["to"])

"""The order of a work queue: which case a collector should work first, and why.

Priority points (higher first), documented in docs/CASEWORK.md:
- amount: 200 × log10(1 + overdue yuan): 100 yuan ≈ 400, 10,000 yuan ≈ 800 (a tenfold
  larger debt weighs the same step whatever its size: large debts first, not only them);
- days past due: 5 a day up to 180 days (900): older debts roll further if left;
- broken promises: 300 each, at most three (a broken promise is the strongest signal that a
  case needs a person, not a reminder);
- a score, when the lender feeds one (probability of paying, 0..1): 400 × score.
"""

import math
from dataclasses import dataclass

AMOUNT_WEIGHT = 200
DPD_POINTS, DPD_CAP = 5, 180
BROKEN_POINTS, BROKEN_CAP = 300, 3
SCORE_WEIGHT = 400
MINOR_PER_MAJOR = 100


@dataclass(frozen=True)
class QueueFacts:
    """What a case's place in a queue depends on."""

    overdue_minor: int
    dpd: int
    broken_promises: int
    score: float | None = None


@dataclass(frozen=True)
class Priority:
    """Points in total and by part (the queue page shows why a case is where it is)."""

    amount: int
    dpd: int
    promises: int
    score: int

    @property
    def total(self) -> int:
        """The sum of the parts: the queue's sort key."""
        return self.amount + self.dpd + self.promises + self.score


def priority(facts: QueueFacts) -> Priority:
    """A case's priority points."""
    major = max(facts.overdue_minor, 0) / MINOR_PER_MAJOR
    score = 0 if facts.score is None else round(SCORE_WEIGHT * min(max(facts.score, 0.0), 1.0))
    return Priority(
        amount=round(AMOUNT_WEIGHT * math.log10(1 + major)),
        dpd=DPD_POINTS * min(max(facts.dpd, 0), DPD_CAP),
        promises=BROKEN_POINTS * min(max(facts.broken_promises, 0), BROKEN_CAP),
        score=score,
    )

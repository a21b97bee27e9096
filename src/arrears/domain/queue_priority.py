"""The order of a work queue: which case a collector should work first, and why.

Priority points (higher first), documented in docs/CASEWORK.md:
- amount: 200 × log10(1 + overdue yuan): 100 yuan ≈ 400, 10,000 yuan ≈ 800 (a tenfold
  larger debt weighs the same step whatever its size: large debts first, not only them); an
  amount in another currency counts in the queue's reference currency (QueueScale);
- days past due: 5 a day up to 180 days (900): older debts roll further if left;
- broken promises: 300 each, at most three (a broken promise is the strongest signal that a
  case needs a person, not a reminder);
- the lender's score, when it feeds one and the settings say its range: 400 × where the
  score lies in that range (its low end 0, its high end 1: the higher, the likelier to pay).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

AMOUNT_WEIGHT = 200
DPD_POINTS, DPD_CAP = 5, 180
BROKEN_POINTS, BROKEN_CAP = 300, 3
SCORE_WEIGHT = 400
MINOR_PER_MAJOR = 100


@dataclass(frozen=True)
class QueueScale:
    """How the queue weighs cases against each other. Overdue amounts in several currencies:
    each counted in the `reference` currency at the lender's rate (settings [queue]: one
    unit of a currency is worth `rates[currency]` units of the reference); a currency with
    no rate is counted one to one, and the queue says so (`known`). The lender's scores:
    `scores`, the range its scores run over (low, high), when the settings give one."""

    reference: str = "CNY"
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    scores: tuple[int, int] | None = None

    def score_share(self, score: int | None) -> float | None:
        """Where a loan's score lies in the lender's range, 0..1 (None: no score, or no range
        to read it by: a whole number alone says nothing of its scale)."""
        if score is None or self.scores is None:
            return None
        low, high = self.scores
        return min(max((score - low) / (high - low), 0.0), 1.0)

    def known(self, currency: str) -> bool:
        """Whether amounts in `currency` are weighed at a rate (the reference is)."""
        return currency == self.reference or currency in self.rates

    def minor(self, amount_minor: int, currency: str) -> int:
        """An amount in minor units of `currency` as minor units of the reference (half up)."""
        if currency == self.reference or currency not in self.rates:
            return amount_minor
        counted = Decimal(amount_minor) * self.rates[currency]
        return int(counted.quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class QueueFacts:
    """What a case's place in a queue depends on (the amount in the reference currency's
    minor units: QueueScale)."""

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

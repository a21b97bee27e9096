"""The dated one-year Loan Prime Rate (LPR) table, and the rate in force on a day."""

import bisect
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from arrears.domain.errors import DomainError, LprNotKnown


@dataclass(frozen=True)
class LprFixing:
    """One monthly LPR publication: the one-year rate from `published_on`, with its source."""

    published_on: date
    one_year: Fraction
    source: str


@dataclass(frozen=True)
class LprTable:
    """Publications in date order, valid up to `known_through` (later rates are not known)."""

    fixings: tuple[LprFixing, ...]
    known_through: date

    def __post_init__(self) -> None:
        days = [f.published_on for f in self.fixings]
        if not days:
            raise DomainError("the LPR table is empty")
        if days != sorted(set(days)):
            raise DomainError("LPR fixings must have distinct dates in increasing order")
        if self.known_through < days[-1]:
            raise DomainError("LPR known_through is before the last fixing")

    def fixing_on(self, day: date) -> LprFixing:
        """The publication in force on `day` (the latest published on or before it)."""
        if day > self.known_through:
            raise LprNotKnown(
                f"the one-year LPR in force on {day} is not in the table (known through "
                f"{self.known_through}); add the fixing under [[lpr.fixing]] in the settings file"
            )
        index = bisect.bisect_right([f.published_on for f in self.fixings], day) - 1
        if index < 0:
            raise LprNotKnown(
                f"no one-year LPR was published on or before {day} (the first fixing is "
                f"{self.fixings[0].published_on})"
            )
        return self.fixings[index]

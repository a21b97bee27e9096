"""Schedule revisions: an approved proposal changes a loan's schedule from its day on.

An **extension** of N days effective on day A (docs/MONEY_RULES.md, "Revisions"): at the
start of A, before A's contractual postings, every instalment still owing principal or
interest has its due date moved N days later. One not yet due falls due on its new date;
one already due keeps the day its interest was posted, and is past due only from its new
effective due date. Charges posted stay posted. Inside grace its pending penalty (never
posted) is not owed and grace begins again from the new date; beyond grace it stays beyond
(no second grace, no second late fee). Instalments paid in full keep their dates; several
extensions add up, each moving the instalments owing on its day. Nothing before A changes.

Plans (the past-due amount re-split into monthly instalments) and settlements (a lump sum by
a day, the rest waived once paid) are approved and recorded but not yet applied to the
ledger.
"""

from dataclasses import dataclass
from datetime import date

from arrears.domain.errors import DomainError

EXTENSION = "extension"
APPLIED_KINDS = (EXTENSION,)
MAX_DAYS = 180  # domain.approvals.MAX_EXTENSION_DAYS: the longest extension anyone grants


@dataclass(frozen=True)
class Revision:
    """A change of a loan's schedule from `effective_on` on (its approval day)."""

    kind: str
    effective_on: date
    days: int = 0  # extension: how many days the instalments owing move

    def __post_init__(self) -> None:
        if self.kind not in APPLIED_KINDS:
            raise DomainError(
                f"revision {self.kind!r}: only {', '.join(APPLIED_KINDS)} revisions are applied"
            )
        if not 1 <= self.days <= MAX_DAYS:
            raise DomainError(f"an extension moves due dates 1 to {MAX_DAYS} days, not {self.days}")


def in_order(revisions: tuple[Revision, ...] | list[Revision]) -> tuple[Revision, ...]:
    """Revisions in the order they apply: by day (two the same day: in the order given)."""
    return tuple(sorted(revisions, key=lambda r: r.effective_on))

"""Schedule revisions: an approved proposal changes a loan's schedule from its day on.

An **extension** of N days effective on day A (docs/MONEY_RULES.md, "Revisions"): at the
start of A, before A's contractual postings, every instalment still owing principal or
interest has its due date moved N days later. One not yet due falls due on its new date;
one already due keeps the day its interest was posted, and is past due only from its new
effective due date. Charges posted stay posted. Inside grace its pending penalty (never
posted) is not owed and grace begins again from the new date; beyond grace it stays beyond
(no second grace, no second late fee). Instalments paid in full keep their dates; several
extensions add up, each moving the instalments owing on its day. Nothing before A changes.

A **settlement** of X by day D effective on day A (docs/MONEY_RULES.md, "Settlements"): the
payments made on A..D are counted; on the day they reach X (D included), after that day's
waterfall, everything the loan's instalments still owe is waived (民法典 Art. 575: the
creditor releases the rest of the debt), not yet due included: the loan is settled, nothing
more falls due or accrues, and money paid later is held as credit. Not reached by the end of
D, it lapses: nothing was changed meanwhile, so the loan is owed exactly as without it.

Plans (the past-due amount re-split into monthly instalments) are approved and recorded but
not yet applied to the ledger.
"""

from dataclasses import dataclass
from datetime import date

from arrears.domain.errors import DomainError
from arrears.domain.money import LARGEST_AMOUNT, format_amount

EXTENSION = "extension"
SETTLEMENT = "settlement"
KINDS = (EXTENSION, SETTLEMENT)  # the revisions evaluate_loan and every engine apply
MAX_DAYS = 180  # domain.approvals.MAX_EXTENSION_DAYS: the longest extension anyone grants
# What a settlement's waiver is recorded as: an allocation of this source (not a payment).
WAIVER = "waiver"
# A settlement's states on a day: its days still running, reached (the loan settled), lapsed.
PENDING, SETTLED, LAPSED = "pending", "settled", "lapsed"


@dataclass(frozen=True)
class Revision:
    """A change of a loan's schedule from `effective_on` on (its approval day)."""

    kind: str
    effective_on: date
    days: int = 0  # extension: how many days the instalments owing move
    amount: int = 0  # settlement: what must be paid (minor units), from effective_on
    deadline: date | None = None  # settlement: the last day it may be paid (included)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DomainError(
                f"revision {self.kind!r}: only {', '.join(KINDS)} revisions are applied"
            )
        if self.kind == EXTENSION:
            if not 1 <= self.days <= MAX_DAYS:
                raise DomainError(
                    f"an extension moves due dates 1 to {MAX_DAYS} days, not {self.days}"
                )
            if self.amount or self.deadline is not None:
                raise DomainError("an extension has days only, no amount or deadline")
            return
        if self.days:
            raise DomainError(f"a settlement moves no due date (days {self.days})")
        if not 0 < self.amount <= LARGEST_AMOUNT:
            raise DomainError(
                f"a settlement's amount must be more than 0.00 and at most "
                f"{format_amount(LARGEST_AMOUNT)}, not {format_amount(self.amount)}"
            )
        if self.deadline is None:
            raise DomainError("a settlement needs a deadline (the last day it may be paid)")
        if self.deadline < self.effective_on:
            raise DomainError(
                f"a settlement's deadline {self.deadline} is before its effective day "
                f"{self.effective_on}"
            )


def in_order(revisions: tuple[Revision, ...] | list[Revision]) -> tuple[Revision, ...]:
    """Revisions in the order they apply: by day (two the same day: in the order given)."""
    return tuple(sorted(revisions, key=lambda r: r.effective_on))

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

A **plan** of N months effective on day A (docs/MONEY_RULES.md, "Plans"): at the start of A,
before A's contractual postings, the unpaid principal and interest of every instalment past
due on A (effective due date before A) leave it (allocations of the source PLAN) and are
re-split into N parts due A + 1 month … A + N months (month-end clamped; the rest fen on the
last part), lines of the loan numbered part_seq(p, k). The parts' interest is not charged
again (it was when its instalment fell due); charges posted stay on their instalments. A
part falls due as any instalment: grace, penalty, the late fee once.
"""

import calendar
from dataclasses import dataclass
from datetime import date

from arrears.domain.errors import DomainError
from arrears.domain.money import LARGEST_AMOUNT, format_amount

EXTENSION = "extension"
SETTLEMENT = "settlement"
PLAN = "plan"
KINDS = (EXTENSION, SETTLEMENT, PLAN)  # the revisions evaluate_loan and every engine apply
MAX_DAYS = 180  # domain.approvals.MAX_EXTENSION_DAYS: the longest extension anyone grants
MIN_MONTHS, MAX_MONTHS = 2, 36  # domain.approvals: a plan's months (MAX_PLAN_MONTHS)
# On one day the plans apply first, then the extensions (docs/MONEY_RULES.md, "Plans").
RANK = {PLAN: 0, EXTENSION: 1, SETTLEMENT: 2}
# What a plan's re-split is recorded as: allocations of this source (not a payment) on the
# instalments it took principal and interest from.
PLAN_SOURCE = "plan"
# A plan part's states on a day: not yet past due and owing, past due, paid.
PART_PENDING, PART_PAST_DUE, PART_PAID = "pending", "past_due", "paid"
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
    months: int = 0  # plan: how many monthly parts the past-due amount is re-split into

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DomainError(
                f"revision {self.kind!r}: only {', '.join(KINDS)} revisions are applied"
            )
        if self.kind == PLAN:
            if not MIN_MONTHS <= self.months <= MAX_MONTHS:
                raise DomainError(
                    f"a plan re-splits into {MIN_MONTHS} to {MAX_MONTHS} monthly parts, "
                    f"not {self.months}"
                )
            if self.days or self.amount or self.deadline is not None:
                raise DomainError("a plan has months only, no days, amount or deadline")
            return
        if self.months:
            raise DomainError(f"only a plan has months (a {self.kind} has {self.months})")
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
    """Revisions in the order they apply: by day; on one day the plans, then the extensions,
    then the settlements (two of a kind the same day: in the order given)."""
    return tuple(sorted(revisions, key=lambda r: (r.effective_on, RANK[r.kind])))


def months_after(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def part_seq(plan: int, part: int) -> int:
    """The line number of the `part`-th part (1..months) of a loan's `plan`-th plan (1..):
    negative, so that no schedule's seq (1 or more) is ever one; -(100 plan + part)."""
    return -(100 * plan + part)


def part_of(seq: int) -> tuple[int, int]:
    """The plan and part numbers of a part's line number (part_seq's inverse)."""
    return -seq // 100, -seq % 100


def split(total: int, months: int) -> list[int]:
    """`total` in `months` parts: each ⌊total ÷ months⌋, the last the rest (they add up)."""
    each = total // months
    return [each] * (months - 1) + [total - each * (months - 1)]

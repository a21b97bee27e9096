"""The result of evaluating a loan: balances, charges with their reasons, cap cuts, allocations."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction

from arrears.domain.balances import Allocation
from arrears.domain.caps import CapRule
from arrears.domain.late_fees import LateFeeLimit
from arrears.domain.pauses import NO_PAUSES, Pauses
from arrears.domain.revisions import Revision


@dataclass(frozen=True)
class Charge:
    """A posted charge: `daily` on `base` for each day first_day..last_day, posted on posted_on.

    kind: interest / fee (contractual, on the due date), penalty (per day), late_fee (once).
    """

    seq: int
    kind: str
    posted_on: date
    first_day: date
    last_day: date
    base: int
    daily: int
    amount: int


@dataclass(frozen=True)
class CapCut:
    """Part of a charge not posted because it would break the cost cap, with the rule's source."""

    seq: int
    kind: str
    day: date
    amount: int
    rule_id: str
    source: str


@dataclass(frozen=True)
class InstallmentState:
    """One instalment on the evaluation day: unpaid amounts (minor units) and delinquency."""

    seq: int
    due_date: date
    effective_due_date: date | None
    dpd: int
    principal: int
    interest: int
    fees: int
    penalty: int
    pending_penalty: int
    interest_cut: int
    beyond_grace: bool
    past_due: bool
    open: bool


@dataclass(frozen=True)
class Overdue:
    """What is past due: principal and interest of past-due instalments, penalty and fees owed."""

    principal: int
    interest: int
    penalty: int
    fees: int

    @property
    def total(self) -> int:
        """Sum of the parts."""
        return self.principal + self.interest + self.penalty + self.fees


@dataclass(frozen=True)
class SettlementState:
    """An approved settlement on the evaluation day (domain/revisions.py): `paid` counts the
    payments made from its effective day up to its deadline (or the day it was reached, or
    `as_of`); `waived` what its waiver released, by part (fees, penalty, interest,
    principal; all 0 unless settled)."""

    revision: Revision
    status: str  # revisions.PENDING, SETTLED or LAPSED
    paid: int
    settled_on: date | None
    waived: dict[str, int]

    @property
    def waived_total(self) -> int:
        """Everything its waiver released."""
        return sum(self.waived.values())


@dataclass(frozen=True)
class PlanPart:
    """A part of an approved plan on the evaluation day (domain/revisions.py): its line's
    due date (moved by any extension since), what it re-split, what was paid on it, and
    whether it is pending (owing, not past due), past_due or paid (owes nothing)."""

    number: int  # 1..months
    seq: int  # its line (revisions.part_seq)
    due_date: date
    principal: int
    interest: int
    paid: int  # principal and interest paid on it
    status: str  # revisions.PART_PENDING, PART_PAST_DUE or PART_PAID


@dataclass(frozen=True)
class PlanState:
    """An approved plan effective by the evaluation day: the principal and interest it
    re-split (past due on its day), in its parts."""

    revision: Revision
    principal: int
    interest: int
    parts: tuple[PlanPart, ...]


@dataclass(frozen=True)
class LoanState:
    """A loan's full state at the end of `as_of`."""

    loan_id: str
    as_of: date
    dpd: int
    bucket: str
    stage: str
    overdue: Overdue
    outstanding_principal: int
    credit: int
    penalty_rate: Fraction
    cap_rule: CapRule
    allowance: int | None  # the cap allowance of `as_of` (None = uncapped)
    charged: int  # all charges posted up to `as_of`, contract interest included
    installments: tuple[InstallmentState, ...]
    charges: tuple[Charge, ...]
    cap_cuts: tuple[CapCut, ...]
    allocations: tuple[Allocation, ...]
    pauses: Pauses = NO_PAUSES  # the days its clocks stood still (domain/pauses.py)
    revisions: tuple[Revision, ...] = ()  # those applied by as_of (domain/revisions.py)
    # The settlements effective by as_of, each with its status and what it waived.
    settlements: tuple[SettlementState, ...] = ()
    # The plans effective by as_of, each with its parts.
    plans: tuple[PlanState, ...] = ()
    # Its product's limit on late fees in all (None: none): each late fee asked is at most
    # what it leaves (domain/late_fees.py).
    late_fee_limit: LateFeeLimit | None = None

    @property
    def oldest_past_due(self) -> date | None:
        """The effective due date of the oldest instalment past due (None: none is): what
        the limitation period runs from, whatever days the ageing clock stood still."""
        return min((s.effective_due_date for s in self.installments
                    if s.past_due and s.effective_due_date is not None
                    and s.effective_due_date < self.as_of), default=None)  # fmt: skip

    @property
    def owed_in_all(self) -> int:
        """All the loan owes at the end of `as_of` if nothing more is paid: its outstanding
        principal (any no instalment schedules too), the interest and fees its schedule asks
        of every line, due or not, and the penalty posted by then, less the credit held
        (penalty still pending in grace is owed only once grace has run out). Money paid on
        `as_of` may clear the lines with less: a day's penalty is on the balance left at its
        end."""
        charges = sum(s.interest + s.fees + s.penalty for s in self.installments)
        return max(0, self.outstanding_principal + charges - self.credit)

    def total_charged(self, kind: str) -> int:
        """Total posted of one charge kind."""
        return sum(c.amount for c in self.charges if c.kind == kind)


def days_to_next_due(lines: Sequence[InstallmentState], as_of: date) -> int | None:
    """Days from `as_of` to the nearest due date, that day or later, of a line still open
    (what a stage rule's `due_within` reads); None when there is none."""
    return min(((s.due_date - as_of).days for s in lines if s.due_date >= as_of and s.open),
               default=None)  # fmt: skip


def merge_charges(charges: Sequence[Charge]) -> tuple[Charge, ...]:
    """Join a penalty's consecutive days at the same base and daily amount into one record.

    Days posted retroactively on a grace crossing (posted_on after last_day) join only each
    other; days posted as they accrue (posted_on == first_day) join only each other.
    """
    merged: list[Charge] = []
    for charge in sorted(charges, key=lambda c: (c.seq, c.first_day, _KIND_ORDER[c.kind])):
        last = merged[-1] if merged else None
        if last is not None and _continues(last, charge):
            merged[-1] = replace(last, last_day=charge.last_day, amount=last.amount + charge.amount)
        else:
            merged.append(charge)
    return tuple(merged)


def posted_within(charge: Charge, start: date, end: date) -> int:
    """The part of a (merged) charge posted on days start..end inclusive."""
    if charge.posted_on > charge.first_day:  # retroactive block: all posted on one day
        return charge.amount if start <= charge.posted_on <= end else 0
    first, last = max(start, charge.first_day), min(end, charge.last_day)
    return max(0, (last - first).days + 1) * charge.daily


_KIND_ORDER = {"interest": 0, "fee": 1, "penalty": 2, "late_fee": 3}


def _continues(last: Charge, charge: Charge) -> bool:
    if charge.kind != "penalty" or last.kind != "penalty":
        return False
    if (last.seq, last.base, last.daily) != (charge.seq, charge.base, charge.daily):
        return False
    if last.last_day + timedelta(days=1) != charge.first_day:
        return False
    retro = charge.posted_on > charge.first_day
    if retro:
        return last.posted_on == charge.posted_on
    return last.posted_on == last.first_day

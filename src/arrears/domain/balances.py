"""Per-instalment balances during evaluation, and the payment allocation waterfall."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from arrears.domain.loan import Installment


@dataclass(frozen=True)
class Allocation:
    """Part of a payment applied to one component of one instalment (seq None = credit)."""

    payment_id: str
    seq: int | None
    component: str
    amount: int
    paid_on: date


@dataclass
class InstallmentBalance:
    """What one instalment has been charged and paid so far (minor units)."""

    installment: Installment
    effective_due: date | None = None
    posted: bool = False
    interest_charged: int = 0
    fees_charged: int = 0
    penalty_charged: int = 0
    paid: dict[str, int] = field(
        default_factory=lambda: {"fees": 0, "penalty": 0, "interest": 0, "principal": 0}
    )
    # What a settlement released (domain/revisions.py): owed no more, paid by nobody.
    waived: dict[str, int] = field(
        default_factory=lambda: {"fees": 0, "penalty": 0, "interest": 0, "principal": 0}
    )
    # What a plan took away to re-split into its parts (domain/revisions.py): owed no more
    # here, owed on the parts.
    planned: dict[str, int] = field(default_factory=lambda: {"principal": 0, "interest": 0})
    pending: list[tuple[date, int, int]] = field(default_factory=list)
    beyond_grace: bool = False
    moved: int = 0  # days revisions moved its due date (domain/revisions.py)
    first_due: date = field(init=False)  # its due date as given, before any revision

    def __post_init__(self) -> None:
        self.first_due = self.installment.due_date

    def owed(self, component: str) -> int:
        """What is payable now on a component; before the due date the schedule is payable."""
        item = self.installment
        if component == "principal":
            total = item.principal_due
        elif component == "interest":
            total = self.interest_charged if self.posted else item.interest_due
        elif component == "fees":
            total = self.fees_charged if self.posted else item.fee_due
        else:
            total = self.penalty_charged
        taken = self.planned.get(component, 0)
        return total - self.paid[component] - self.waived[component] - taken

    @property
    def unpaid_principal(self) -> int:
        """Principal not yet paid."""
        return self.owed("principal")

    @property
    def past_due_amount(self) -> int:
        """Unpaid principal and interest: what makes an instalment past due."""
        return self.owed("principal") + self.owed("interest")


def allocate(
    payment_id: str,
    amount: int,
    paid_on: date,
    balances: Sequence[InstallmentBalance],
    order: Sequence[str],
) -> tuple[list[Allocation], int]:
    """Apply money oldest-due first, within an instalment in `order`; return the leftover.

    民法典 Art. 560/561 set the default (costs → interest → principal, earliest-due debt first);
    a product may set another order.
    """
    allocations: list[Allocation] = []
    remaining = amount
    for balance in balances:
        for component in order:
            take = min(balance.owed(component), remaining)
            if take > 0:
                balance.paid[component] += take
                remaining -= take
                allocations.append(
                    Allocation(payment_id, balance.installment.seq, component, take, paid_on)
                )
        if remaining == 0:
            break
    return allocations, remaining

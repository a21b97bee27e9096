"""Loans, instalment schedules and payments as the domain sees them."""

from dataclasses import dataclass
from datetime import date
from fractions import Fraction


@dataclass(frozen=True)
class Installment:
    """One scheduled instalment: what falls due on `due_date` (minor units)."""

    seq: int
    due_date: date
    principal_due: int
    interest_due: int
    fee_due: int = 0


@dataclass(frozen=True)
class Payment:
    """Money received for a loan on a day (minor units)."""

    payment_id: str
    amount: int
    paid_on: date


@dataclass(frozen=True)
class Loan:
    """A loan contract with its schedule; `penalty_rate` None means the product default."""

    loan_id: str
    borrower_id: str
    product: str
    currency: str
    principal: int
    annual_rate: Fraction
    contract_date: date
    installments: tuple[Installment, ...]
    penalty_rate: Fraction | None = None
    segment: str | None = None  # the lender's, as the loans feed gives it (stage rules read it)
    score: int | None = None

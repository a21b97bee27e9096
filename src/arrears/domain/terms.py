"""Resolve the terms that bind a loan: its product, cost cap rule and business calendar."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from arrears.domain.calendar import BusinessCalendar
from arrears.domain.caps import CapPolicy, CapRule, cap_rule_for
from arrears.domain.contact import Hold
from arrears.domain.errors import DomainError
from arrears.domain.evaluation import evaluate_loan
from arrears.domain.loan import Loan, Payment
from arrears.domain.lpr import LprTable
from arrears.domain.pauses import Pauses
from arrears.domain.product import Product
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState

# calendar_for(jurisdiction, first_year, last_year) -> the business calendar for those years
CalendarSource = Callable[[str, int, int], BusinessCalendar]


class Pricing(Protocol):
    """What prices a loan's charges: products, cap policies, the LPR (Terms and the settings)."""

    @property
    def products(self) -> dict[str, Product]:
        """Products by code."""
        ...

    @property
    def cap_policies(self) -> dict[str, dict[str, CapPolicy]]:
        """Each jurisdiction's cap kinds."""
        ...

    @property
    def lpr(self) -> LprTable:
        """The one-year LPR fixings."""
        ...


@dataclass(frozen=True)
class LoanTerms:
    """What a loan's evaluation needs besides its own data."""

    product: Product
    cap_rule: CapRule
    calendar: BusinessCalendar


@dataclass(frozen=True)
class Terms:
    """Products, cap policies, the LPR table and calendars: everything to resolve LoanTerms."""

    products: dict[str, Product]
    cap_policies: dict[str, dict[str, CapPolicy]]
    lpr: LprTable
    calendar_for: CalendarSource

    def for_loan(self, loan: Loan, as_of: date) -> LoanTerms:
        """The terms binding `loan` when evaluated up to `as_of`."""
        product = self.products.get(loan.product)
        if product is None:
            raise DomainError(f"loan {loan.loan_id}: unknown product {loan.product!r}")
        policies = self.cap_policies.get(product.jurisdiction, {})
        rule = cap_rule_for(product.cap, loan.contract_date, policies, self.lpr, product.own_cap)
        first = min(loan.contract_date.year, as_of.year)
        # Next year too: a due date late in December may roll into January.
        calendar = self.calendar_for(product.jurisdiction, first, as_of.year + 1)
        return LoanTerms(product, rule, calendar)

    def evaluate(
        self, loan: Loan, payments: list[Payment], as_of: date, holds: Iterable[Hold] = (),
        revisions: Sequence[Revision] = (),
    ) -> LoanState:  # fmt: skip
        """Evaluate one loan under its terms (the domain reference); `holds`: its borrower's,
        which stop its clocks where its product says (domain/pauses.py); `revisions`: its
        schedule's approved changes (domain/revisions.py)."""
        try:
            terms = self.for_loan(loan, as_of)
            product = terms.product
            return evaluate_loan(
                loan,
                payments,
                as_of,
                product=product,
                cap_rule=terms.cap_rule,
                calendar=terms.calendar,
                pauses=Pauses.of(holds, product.pause_ageing, product.pause_charges),
                revisions=revisions,
            )
        except DomainError as error:
            message = str(error)
            if loan.loan_id not in message:
                message = f"loan {loan.loan_id}: {message}"
            raise DomainError(message) from None

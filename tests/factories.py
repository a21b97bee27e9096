"""Small builders for loans, products and rules used across the tests."""

from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction

from arrears.domain.calendar import BusinessCalendar
from arrears.domain.caps import CapRule, a_year
from arrears.domain.evaluation import evaluate_loan
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.pauses import NO_PAUSES, Pauses
from arrears.domain.product import Product
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState

CONTRACT = date(2026, 1, 1)
WEEKDAYS = BusinessCalendar.weekends_only(range(2024, 2030))
LICENSED_RATE = Fraction(24, 100)
LICENSED = CapRule("cn.cap.licensed", LICENSED_RATE, "法发〔2017〕22号", a_year(LICENSED_RATE))
UNCAPPED = CapRule.uncapped()


def one_instalment_loan(
    principal: int = 1_000_000,
    interest: int = 0,
    due: date = date(2026, 1, 31),
    rate: str = "0.12",
    penalty_rate: str | None = "0.36",
    fee: int = 0,
) -> Loan:
    """A bullet loan: everything due on one day."""
    return Loan(
        loan_id="L1",
        borrower_id="B1",
        product="cn-cash",
        currency="CNY",
        principal=principal,
        annual_rate=Fraction(rate),
        contract_date=CONTRACT,
        installments=(Installment(1, due, principal, interest, fee),),
        penalty_rate=Fraction(penalty_rate) if penalty_rate is not None else None,
    )


def monthly_loan(parts: list[tuple[int, int]], rate: str = "0.18") -> Loan:
    """A loan with instalments (principal, interest) due on the 1st of each following month."""
    items = tuple(
        Installment(seq, date(2026, 1 + seq, 1), principal, interest)
        for seq, (principal, interest) in enumerate(parts, start=1)
    )
    return Loan(
        "L2", "B1", "cn-cash", "CNY", sum(p for p, _ in parts), Fraction(rate), CONTRACT, items
    )


def evaluate(
    loan: Loan,
    payments: list[Payment] | None = None,
    as_of: date = date(2026, 3, 1),
    product: Product | None = None,
    rule: CapRule = UNCAPPED,
    calendar: BusinessCalendar = WEEKDAYS,
    pauses: Pauses = NO_PAUSES,
    revisions: Sequence[Revision] = (),
) -> LoanState:
    """Evaluate with test defaults (cn-cash terms, no cap unless given, no pauses or
    revisions)."""
    return evaluate_loan(
        loan,
        payments or [],
        as_of,
        product=product or Product("cn-cash"),
        cap_rule=rule,
        calendar=calendar,
        pauses=pauses,
        revisions=revisions,
    )


def day(offset: int, start: date = date(2026, 1, 31)) -> date:
    """A day counted from a start (default: the bullet loan's due date)."""
    return start + timedelta(days=offset)

"""A loan's full state on any day (`evaluate_loan`): the reference every engine must agree with.

The day is walked in a fixed order, which is what makes the money rules exact:
  1. contractual postings: interest and scheduled fees of instalments due today;
  2. grace crossings: on an instalment's first day beyond grace, the penalty accrued since its
     effective due date becomes owed (retroactively) and the late fee is posted;
  3. payments of the day pay what is owed at the start of the day (penalty through yesterday);
  4. the day's penalty accrues on the principal still overdue at the end of the day;
  5. the day's closing principal joins the cap allowance (counted from tomorrow: 算头不算尾).
Every charge is cut to what fits under the cap allowance of its day, and the cut is recorded.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from arrears.domain.balances import Allocation, InstallmentBalance, allocate
from arrears.domain.calendar import BusinessCalendar, effective_due_date
from arrears.domain.caps import CapRule, allowance
from arrears.domain.delinquency import bucket_for, days_past_due
from arrears.domain.errors import DomainError
from arrears.domain.loan import Loan, Payment
from arrears.domain.money import div_half_up
from arrears.domain.product import Product
from arrears.domain.stages import default_stage
from arrears.domain.statement import (
    CapCut,
    Charge,
    InstallmentState,
    LoanState,
    Overdue,
    merge_charges,
)

CREDIT = "credit"
CAP_REFUND = "cap_refund"
# post(line, kind, posted_on, accrued_on, base, amount) -> the part that fits under the cap
Poster = Callable[[InstallmentBalance, str, date, date, int, int], int]


@dataclass
class _Book:
    """The running totals of one evaluation."""

    rule: CapRule
    day_count: int
    charged: int = 0
    principal_days: int = 0
    limit: int | None = None
    credit: int = 0

    def fit(self, amount: int) -> int:
        """How much of a charge fits under today's allowance."""
        if self.limit is None:
            return amount
        return max(0, min(amount, self.limit - self.charged))


def evaluate_loan(
    loan: Loan,
    payments: Iterable[Payment],
    as_of: date,
    *,
    product: Product,
    cap_rule: CapRule,
    calendar: BusinessCalendar,
) -> LoanState:
    """Walk the loan day by day from its contract date to `as_of` and return its state."""
    penalty_rate = product.penalty_rate_for(loan.annual_rate, loan.penalty_rate)
    schedule = sorted(loan.installments, key=lambda i: (i.due_date, i.seq))
    lines = [InstallmentBalance(i) for i in schedule]
    todays = _payments_by_day(loan, payments, as_of)
    book = _Book(cap_rule, product.day_count)
    book.limit = allowance(cap_rule, 0, product.day_count)
    charges: list[Charge] = []
    cuts: list[CapCut] = []
    allocations: list[Allocation] = []

    def post(
        line: InstallmentBalance, kind: str, day: date, accrued: date, base: int, amt: int
    ) -> int:
        fits = book.fit(amt)
        book.charged += fits
        seq = line.installment.seq
        if fits:
            charges.append(Charge(seq, kind, day, accrued, accrued, base, fits, fits))
        if amt > fits:
            cuts.append(CapCut(seq, kind, day, amt - fits, cap_rule.rule_id, cap_rule.source))
        return fits

    day = loan.contract_date
    while day <= as_of:
        book.limit = allowance(cap_rule, book.principal_days, product.day_count)
        for line in lines:
            item = line.installment
            if item.due_date == day:
                allocations.extend(_post_schedule(line, day, post, book))
                line.effective_due = effective_due_date(day, product.holiday_rule, calendar)
            if line.effective_due is None or line.beyond_grace:
                continue
            if (day - line.effective_due).days > product.grace_days and line.past_due_amount > 0:
                line.beyond_grace = True
                for accrued, base, amount in line.pending:
                    line.penalty_charged += post(line, "penalty", day, accrued, base, amount)
                line.pending.clear()
                line.fees_charged += post(line, "late_fee", day, day, 0, product.late_fee)
            elif line.past_due_amount == 0:
                line.pending.clear()  # paid inside grace: the accrued penalty is never owed
        if book.credit:
            used, book.credit = allocate(CREDIT, book.credit, day, lines, product.allocation)
            allocations.extend(used)
        for payment in todays.get(day, ()):
            used, left = allocate(
                payment.payment_id, payment.amount, day, lines, product.allocation
            )
            allocations.extend(used)
            if left:
                allocations.append(Allocation(payment.payment_id, None, CREDIT, left, day))
                book.credit += left
        _accrue_penalty(lines, day, penalty_rate, product, post)
        book.principal_days += sum(line.unpaid_principal for line in lines)
        day += timedelta(days=1)
    return _statement(loan, lines, as_of, product, book, penalty_rate, charges, cuts, allocations)


def _payments_by_day(
    loan: Loan, payments: Iterable[Payment], as_of: date
) -> dict[date, list[Payment]]:
    by_day: dict[date, list[Payment]] = {}
    for payment in sorted(payments, key=lambda p: (p.paid_on, p.payment_id)):
        if payment.paid_on < loan.contract_date:
            raise DomainError(
                f"payment {payment.payment_id} on {payment.paid_on} is before loan "
                f"{loan.loan_id}'s contract date {loan.contract_date}"
            )
        if payment.amount <= 0:
            raise DomainError(f"payment {payment.payment_id} amount must be positive")
        if payment.paid_on <= as_of:
            by_day.setdefault(payment.paid_on, []).append(payment)
    return by_day


def _post_schedule(
    line: InstallmentBalance, day: date, post: Poster, book: _Book
) -> list[Allocation]:
    """Post an instalment's contract interest and fees on its due date, cut to fit the cap.

    A cut below what was already prepaid is not owed: the excess is taken back from the
    instalment (a negative allocation) and becomes the borrower's credit.
    """
    item = line.installment
    line.posted = True
    line.interest_charged = post(line, "interest", day, day, 0, item.interest_due)
    line.fees_charged = post(line, "fee", day, day, 0, item.fee_due)
    refunds = []
    for component, charged in (("interest", line.interest_charged), ("fees", line.fees_charged)):
        excess = line.paid[component] - charged
        if excess > 0:
            line.paid[component] = charged
            book.credit += excess
            refunds.append(Allocation(CAP_REFUND, item.seq, component, -excess, day))
    return refunds


def _accrue_penalty(
    lines: list[InstallmentBalance], day: date, rate: Fraction, product: Product, post: Poster
) -> None:
    """Accrue the day's penalty on each instalment's principal overdue at the end of the day."""
    denominator = rate.denominator * product.day_count
    for line in lines:
        if line.effective_due is None or line.effective_due >= day:
            continue
        base = line.unpaid_principal
        if base <= 0:
            continue
        amount = div_half_up(base * rate.numerator, denominator)
        if line.beyond_grace:
            line.penalty_charged += post(line, "penalty", day, day, base, amount)
        else:
            line.pending.append((day, base, amount))


def _statement(
    loan: Loan,
    lines: list[InstallmentBalance],
    as_of: date,
    product: Product,
    book: _Book,
    penalty_rate: Fraction,
    charges: list[Charge],
    cuts: list[CapCut],
    allocations: list[Allocation],
) -> LoanState:
    """Summarise the balances on `as_of` into the loan's state."""
    states = [_installment_state(line, as_of, product) for line in lines]
    past = [s for s in states if s.effective_due_date is not None and s.effective_due_date < as_of]
    overdue = Overdue(
        principal=sum(s.principal for s in past),
        interest=sum(s.interest for s in past),
        penalty=sum(s.penalty for s in states),
        fees=sum(s.fees for s in past),
    )
    unpaid_due = [s.effective_due_date for s in states if s.effective_due_date and s.past_due]
    dpd = days_past_due(as_of, unpaid_due)
    upcoming = [(s.due_date - as_of).days for s in states if s.due_date >= as_of and s.open]
    outstanding = sum(line.unpaid_principal for line in lines)
    settled = not any(s.open for s in states)
    return LoanState(
        loan_id=loan.loan_id,
        as_of=as_of,
        dpd=dpd,
        bucket=bucket_for(dpd, product.grace_days),
        stage=default_stage(dpd, product.grace_days, min(upcoming, default=None), settled),
        overdue=overdue,
        outstanding_principal=outstanding,
        credit=book.credit,
        penalty_rate=penalty_rate,
        cap_rule=book.rule,
        allowance=book.limit,
        charged=book.charged,
        installments=tuple(states),
        charges=merge_charges(charges),
        cap_cuts=tuple(cuts),
        allocations=tuple(allocations),
    )


def _installment_state(line: InstallmentBalance, as_of: date, product: Product) -> InstallmentState:
    item = line.installment
    due = line.effective_due
    own_dpd = (as_of - due).days if due is not None and line.past_due_amount > 0 else 0
    return InstallmentState(
        seq=item.seq,
        due_date=item.due_date,
        effective_due_date=due,
        dpd=max(0, own_dpd),
        principal=line.owed("principal"),
        interest=line.owed("interest"),
        fees=line.owed("fees"),
        penalty=line.owed("penalty"),
        pending_penalty=sum(p[2] for p in line.pending) if line.past_due_amount > 0 else 0,
        interest_cut=item.interest_due - line.interest_charged if line.posted else 0,
        beyond_grace=line.beyond_grace,
        past_due=line.past_due_amount > 0,
        open=any(line.owed(c) > 0 for c in product.allocation),
    )

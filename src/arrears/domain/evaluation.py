"""A loan's full state on any day (`evaluate_loan`): the reference every engine must agree with.

The day is walked in a fixed order, which is what makes the money rules exact:
  1. contractual postings: interest and scheduled fees of instalments due today;
  2. grace crossings: on an instalment's first day beyond grace, the penalty accrued since its
     effective due date becomes owed (retroactively) and the late fee is posted;
  3. payments of the day pay what is owed at the start of the day (penalty through yesterday);
  4. the day's penalty accrues on the principal still overdue at the end of the day;
  5. the day's closing principal joins the cap allowance (counted from tomorrow: 算头不算尾).
Every charge is cut to what fits under the cap allowance of its day, and the cut is recorded.
A loan's pauses (domain/pauses.py) stop its clocks: a day the charges clock stands still
accrues no penalty and does not count towards an instalment's grace; a day the ageing clock
stands still does not count in days past due. Its revisions (domain/revisions.py) change its
schedule at the start of their day, before step 1 (a plan re-splits what is past due into its
parts, an extension moves what is owing); a settlement reached by the day's payments waives
what is still owed after step 3, and the loan is settled from then on.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction

from arrears.domain.balances import Allocation, InstallmentBalance, allocate
from arrears.domain.calendar import BusinessCalendar, effective_due_date
from arrears.domain.caps import CapRule, allowance
from arrears.domain.delinquency import bucket_for, days_past_due
from arrears.domain.errors import DomainError
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.money import LARGEST_AMOUNT, div_half_up, format_amount
from arrears.domain.pauses import AGEING, CHARGES, NO_PAUSES, Pauses
from arrears.domain.product import Product
from arrears.domain.revisions import (
    EXTENSION,
    LAPSED,
    PART_PAID,
    PART_PAST_DUE,
    PART_PENDING,
    PENDING,
    PLAN,
    PLAN_SOURCE,
    SETTLED,
    SETTLEMENT,
    WAIVER,
    Revision,
    in_order,
    months_after,
    part_seq,
    split,
)
from arrears.domain.stages import NOT_LENT, default_stage
from arrears.domain.statement import (
    CapCut,
    Charge,
    InstallmentState,
    LoanState,
    Overdue,
    PlanPart,
    PlanState,
    SettlementState,
    days_to_next_due,
    merge_charges,
)

ONE = timedelta(days=1)
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


class _Walk:
    """One loan walked day by day; each method is one step of the day, in the order above."""

    def __init__(
        self, loan: Loan, product: Product, rule: CapRule, calendar: BusinessCalendar,
        pauses: Pauses = NO_PAUSES, revisions: Sequence[Revision] = (),
        as_of: date | None = None,
    ) -> None:  # fmt: skip
        self.product, self.rule, self.calendar, self.pauses = product, rule, calendar, pauses
        self.revisions = in_order(list(revisions))
        # Its plans effective by as_of, numbered from 1 in order, each with its parts' lines:
        # there from the start, owing nothing until the plan's day fills them in.
        self.plans = [r for r in self.revisions if r.kind == PLAN
                      and (as_of is None or r.effective_on <= as_of)]  # fmt: skip
        parts = [
            Installment(part_seq(p, k), months_after(plan.effective_on, k), 0, 0, 0)
            for p, plan in enumerate(self.plans, start=1)
            for k in range(1, plan.months + 1)
        ]
        schedule = sorted(loan.installments, key=lambda i: (i.due_date, i.seq))
        # In their first due order for good (the waterfall's "oldest due first"): a revision
        # moves the dates of the lines still owing, all by the same days.
        self.lines = [InstallmentBalance(i) for i in
                      sorted([*schedule, *parts], key=lambda i: (i.due_date, i.seq))]  # fmt: skip
        # Principal lent that no instalment schedules stays outstanding: the cap's allowance
        # runs on the principal lent less what was repaid (CONTRACT.md, cap days).
        self.unscheduled = max(0, loan.principal - sum(i.principal_due for i in schedule))
        self.lent = loan.principal  # what a cap on total charges is a multiple of
        self.book = _Book(rule, product.day_count, limit=self.allowance(0))
        self.penalty_rate = product.penalty_rate_for(loan.annual_rate, loan.penalty_rate)
        self.charges: list[Charge] = []
        self.cuts: list[CapCut] = []
        self.allocations: list[Allocation] = []
        # Its settlements: the payments counted towards each, the day each was reached and
        # what its waiver released; the day the first reached settled the loan.
        self.settlements = [r for r in self.revisions if r.kind == SETTLEMENT]
        self.counted = [0] * len(self.settlements)
        self.reached: list[date | None] = [None] * len(self.settlements)
        self.waived = [dict.fromkeys(product.allocation, 0) for _ in self.settlements]
        self.settled_on: date | None = None
        self.late_charged = 0  # the late fees posted so far (what a limit on them counts)

    def post(self, line: InstallmentBalance, kind: str, day: date, accrued: date, base: int,
             amount: int) -> int:  # fmt: skip
        """Post a charge, cut to what fits under the cap; return the part posted."""
        fits = self.book.fit(amount)
        self.book.charged += fits
        seq = line.installment.seq
        if fits:
            self.charges.append(Charge(seq, kind, day, accrued, accrued, base, fits, fits))
        if amount > fits:
            self.cuts.append(CapCut(seq, kind, day, amount - fits, self.rule.rule_id,
                                    self.rule.source))  # fmt: skip
        return fits

    def quiet_until(self, day: date, payment_days: list[date], as_of: date) -> date:
        """The next day on which anything can happen (`day` itself if something may today)."""
        if self.book.credit or any(_live(line) for line in self.due()):
            return day
        upcoming = [as_of + timedelta(days=1)]
        coming = self.next_due()
        if coming is not None:
            upcoming.append(coming)
        upcoming.extend(d for d in payment_days if d >= day)
        upcoming.extend(r.effective_on for r in self.revisions if r.effective_on >= day)
        return max(day, min(upcoming))

    def steady_until(self, day: date, payment_days: list[date], as_of: date) -> date:
        """Post a run of identical penalty days at once when nothing else can happen in it.

        Days are steady when every live instalment is beyond grace, nothing falls due, nothing
        is paid and no credit is held: each day then posts the same penalty. The cap holds on
        every day of the run when it holds on its first and last days (both sides grow
        linearly), otherwise the days are walked one by one. Returns the day after the run.
        """
        if self.book.credit or day in payment_days or self.pauses.stops(CHARGES, day):
            return day
        due = self.due()
        coming = self.next_due()
        if coming is not None and coming <= day:
            return day
        if any(r.effective_on == day for r in self.revisions):
            return day
        if any(_live(line) and not _accruing(line, day) for line in due):
            return day
        ends = [as_of + ONE] + [d for d in payment_days if d > day]
        ends.extend(r.effective_on for r in self.revisions if r.effective_on > day)
        if coming is not None:
            ends.append(coming)
        stop = self.pauses.next_stop(CHARGES, day)  # no penalty accrues from then
        if stop is not None:
            ends.append(stop)
        length = (min(ends) - day).days
        rate, day_count = self.penalty_rate, self.product.day_count
        daily = [
            (
                line,
                div_half_up(line.unpaid_principal * rate.numerator, rate.denominator * day_count),
            )
            for line in due
            if line.unpaid_principal > 0
        ]
        per_day, principal = sum(d for _, d in daily), self.outstanding()
        if length < 1 or not self._fits_throughout(length, per_day, principal):
            return day
        last = day + timedelta(days=length - 1)
        for line, amount in daily:
            if amount:
                seq, base = line.installment.seq, line.unpaid_principal
                self.charges.append(Charge(seq, "penalty", day, day, last, base, amount,
                                           amount * length))  # fmt: skip
                line.penalty_charged += amount * length
        self.book.charged += per_day * length
        self.book.principal_days += principal * length
        return last + ONE

    def _fits_throughout(self, length: int, per_day: int, principal: int) -> bool:
        if self.rule.rate is None:
            return True
        # Checked at both ends: the charges grow by the same amount a day, the allowance by the
        # day's principal (floored) up to a cap on total charges, which the last day meets first.
        days, charged = self.book.principal_days, self.book.charged
        first_ok = charged + per_day <= (self.allowance(days) or 0)
        last_allowance = self.allowance(days + principal * (length - 1)) or 0
        return first_ok and charged + per_day * length <= last_allowance

    def allowance(self, principal_days: int) -> int | None:
        """The loan's cap allowance after `principal_days` (None: uncapped)."""
        return allowance(self.rule, principal_days, self.product.day_count, self.lent)

    def due(self) -> list[InstallmentBalance]:
        """The lines that have reached their due date (posted), in first due order."""
        return [line for line in self.lines if line.posted]

    def next_due(self) -> date | None:
        """The next due date of a line not yet posted (None: every line is)."""
        return min((line.installment.due_date for line in self.lines if not line.posted),
                   default=None)  # fmt: skip

    def revise(self, day: date) -> None:
        """The revisions of the day, before anything else of it (domain/revisions.py): a plan
        re-splits what is past due into its parts; an extension moves every line still owing
        principal or interest its days later."""
        for revision in self.revisions:
            if revision.effective_on != day:
                continue
            if revision.kind == PLAN:
                number = next(n for n, p in enumerate(self.plans, 1) if p is revision)
                self.plan(day, number, revision.months)
            if revision.kind != EXTENSION:
                continue
            for line in self.lines:
                if line.past_due_amount <= 0:
                    continue  # paid in full: its dates stay
                line.moved += revision.days
                first = line.first_due + timedelta(days=line.moved)
                if line.posted:  # its interest stays posted: it is past due from the new date
                    line.effective_due = effective_due_date(first, self.product.holiday_rule,
                                                            self.calendar)  # fmt: skip
                else:
                    line.installment = replace(line.installment, due_date=first)
                if not line.beyond_grace:
                    line.pending.clear()  # never posted: not owed; grace begins again

    def plan(self, day: date, number: int, months: int) -> None:
        """The `number`-th plan, at the start of `day`: the unpaid principal and interest of
        every line past due (effective due date before `day`) leave it, recorded as PLAN_SOURCE
        allocations, and are divided into its parts (the rest fen on the last)."""
        taken = {"principal": 0, "interest": 0}
        for line in self.lines:
            if line.effective_due is None or line.effective_due >= day:
                continue  # not yet due, or not past due: its dates and amounts stay
            for component in ("interest", "principal"):
                owed = line.owed(component)
                if owed > 0:
                    line.planned[component] += owed
                    taken[component] += owed
                    self.allocations.append(
                        Allocation(PLAN_SOURCE, line.installment.seq, component, owed, day)
                    )
        seqs = {part_seq(number, k): k - 1 for k in range(1, months + 1)}
        principal, interest = split(taken["principal"], months), split(taken["interest"], months)
        for line in self.lines:
            k = seqs.get(line.installment.seq)
            if k is not None:
                line.installment = replace(line.installment, principal_due=principal[k],
                                           interest_due=interest[k])  # fmt: skip

    def plan_states(self, as_of: date) -> tuple[PlanState, ...]:
        """Each plan effective by `as_of` with its parts as they stand."""
        states = []
        for number, plan in enumerate(self.plans, start=1):
            seqs = {part_seq(number, k): k for k in range(1, plan.months + 1)}
            parts = []
            for line in self.lines:
                k = seqs.get(line.installment.seq)
                if k is None:
                    continue
                due = line.effective_due
                status = (PART_PAID if line.past_due_amount <= 0
                          else PART_PAST_DUE if due is not None and due < as_of
                          else PART_PENDING)  # fmt: skip
                item = line.installment
                parts.append(PlanPart(k, item.seq, item.due_date, item.principal_due,
                                      item.interest_due,
                                      line.paid["principal"] + line.paid["interest"],
                                      status))  # fmt: skip
            parts.sort(key=lambda part: part.number)
            states.append(PlanState(plan, sum(p.principal for p in parts),
                                    sum(p.interest for p in parts), tuple(parts)))  # fmt: skip
        return tuple(states)

    def open_day(self, day: date) -> None:
        """Steps 1 and 2: today's contractual postings, then grace crossings."""
        self.revise(day)
        self.book.limit = self.allowance(self.book.principal_days)
        for line in self.lines:
            if not line.posted and line.installment.due_date == day:
                self.allocations.extend(_post_schedule(line, day, self.post, self.book))
                line.effective_due = effective_due_date(day, self.product.holiday_rule,
                                                        self.calendar)  # fmt: skip
        for line in self.due():
            if line.beyond_grace or line.effective_due is None:
                continue
            if line.past_due_amount == 0:
                line.pending.clear()  # paid inside grace: the accrued penalty is never owed
            elif self.grace_days_run(line.effective_due, day) > self.product.grace_days:
                line.beyond_grace = True
                for accrued, base, amount in line.pending:
                    line.penalty_charged += self.post(line, "penalty", day, accrued, base, amount)
                line.pending.clear()
                late = self.post(line, "late_fee", day, day, 0, self.late_fee())
                line.fees_charged += late
                self.late_charged += late

    def late_fee(self) -> int:
        """The late fee a line crossing grace is asked: the product's, at most what its limit
        on late fees leaves (cut further, like any charge, to fit the cost cap)."""
        fee, limit = self.product.late_fee, self.product.late_fee_limit
        return fee if limit is None else limit.asked(fee, self.late_charged)

    def grace_days_run(self, effective_due: date, day: date) -> int:
        """An instalment's days past due by `day` as its grace counts them: the days after
        its effective due date on which the charges clock ran."""
        if not self.pauses.charges:
            return (day - effective_due).days
        return self.pauses.days_counted(CHARGES, effective_due, day)

    def pay(self, day: date, payments: list[Payment]) -> None:
        """Step 3: credit held, then the day's payments, down the waterfall."""
        order = self.product.allocation
        if self.book.credit:
            used, self.book.credit = allocate(CREDIT, self.book.credit, day, self.lines, order)
            self.allocations.extend(used)
        for payment in payments:
            used, left = allocate(payment.payment_id, payment.amount, day, self.lines, order)
            self.allocations.extend(used)
            if left:
                self.allocations.append(Allocation(payment.payment_id, None, CREDIT, left, day))
                self.book.credit += left

    def settle(self, day: date, payments: list[Payment]) -> None:
        """After the day's waterfall: the day's payments count towards each settlement whose
        days (effective_on..deadline) include it; one they reach waives everything still
        owed (the loan settled), the first reached settling the loan."""
        paid = sum(p.amount for p in payments)
        if not paid:
            return
        for n, settlement in enumerate(self.settlements):
            if self.reached[n] is not None:
                continue
            assert settlement.deadline is not None
            if not settlement.effective_on <= day <= settlement.deadline:
                continue
            self.counted[n] += paid
            if self.counted[n] >= settlement.amount:
                self.reached[n] = day
                self.waived[n] = self.waive(day)

    def waive(self, day: date) -> dict[str, int]:
        """Release everything the lines still owe (not yet due: their schedule), recorded
        as allocations of the source WAIVER; pending penalty, never posted, is not owed.
        What was released, by part."""
        released = dict.fromkeys(self.product.allocation, 0)
        for line in self.lines:
            for component in self.product.allocation:
                owed = line.owed(component)
                if owed > 0:
                    line.waived[component] += owed
                    released[component] += owed
                    self.allocations.append(
                        Allocation(WAIVER, line.installment.seq, component, owed, day)
                    )
            line.pending.clear()
        if self.settled_on is None:
            self.settled_on = day
        return released

    def rest_settled(self, day: date, todays: dict[date, list[Payment]], as_of: date) -> None:
        """The days `day`..`as_of` of a loan settled before `day`: nothing falls due or
        accrues; money paid is held as credit (and still counted by a settlement pending)."""
        for paid_on in sorted(d for d in todays if day <= d <= as_of):
            for payment in todays[paid_on]:
                self.allocations.append(
                    Allocation(payment.payment_id, None, CREDIT, payment.amount, paid_on)
                )
                self.book.credit += payment.amount
            self.settle(paid_on, todays[paid_on])
        self.book.principal_days += ((as_of - day).days + 1) * self.outstanding()

    def settlement_states(self, as_of: date) -> tuple[SettlementState, ...]:
        """Each settlement effective by `as_of`: pending, settled or lapsed, and its waiver."""
        states = []
        for n, settlement in enumerate(self.settlements):
            if settlement.effective_on > as_of:
                continue
            assert settlement.deadline is not None
            reached = self.reached[n]
            status = SETTLED if reached else LAPSED if as_of > settlement.deadline else PENDING
            states.append(SettlementState(settlement, status, self.counted[n], reached,
                                          dict(self.waived[n])))  # fmt: skip
        return tuple(states)

    def close_day(self, day: date) -> None:
        """Steps 4 and 5: the day's penalty (none on a day the charges clock stands still),
        then the day's principal into the allowance."""
        if not self.pauses.stops(CHARGES, day):
            _accrue_penalty(self.due(), day, self.penalty_rate, self.product,
                            self.post)  # fmt: skip
        self.book.principal_days += self.outstanding()

    def outstanding(self) -> int:
        """Principal lent and not yet repaid: unpaid on the instalments, and unscheduled."""
        return self.unscheduled + sum(line.unpaid_principal for line in self.lines)


def _accruing(line: InstallmentBalance, day: date) -> bool:
    """Whether a line beyond grace is past its effective due date on `day` (an extension may
    have moved that date past a line beyond grace: it accrues nothing until then)."""
    due = line.effective_due
    return line.beyond_grace and due is not None and due < day


def _live(line: InstallmentBalance) -> bool:
    """Whether a due instalment can change by itself today (penalty accrual, grace crossing)."""
    if line.unpaid_principal > 0:
        return True
    return not line.beyond_grace and line.past_due_amount > 0


def evaluate_loan(
    loan: Loan,
    payments: Iterable[Payment],
    as_of: date,
    *,
    product: Product,
    cap_rule: CapRule,
    calendar: BusinessCalendar,
    pauses: Pauses = NO_PAUSES,
    revisions: Sequence[Revision] = (),
) -> LoanState:
    """Walk the loan day by day from its contract date to `as_of` and return its state (its
    clocks stopped on the days `pauses` says, its schedule changed by its `revisions` from
    their days on)."""
    _refuse_too_large(loan)
    todays = _payments_by_day(loan, payments, as_of)
    payment_days = sorted(todays)
    walk = _Walk(loan, product, cap_rule, calendar, pauses, revisions, as_of)
    day = loan.contract_date
    while day <= as_of:
        if walk.settled_on is not None:  # nothing more falls due or accrues
            walk.rest_settled(day, todays, as_of)
            break
        # Days on which nothing can happen only add their principal to the allowance.
        quiet_end = walk.quiet_until(day, payment_days, as_of)
        if quiet_end > day:
            walk.book.principal_days += (quiet_end - day).days * walk.outstanding()
            day = quiet_end
            continue
        steady_end = walk.steady_until(day, payment_days, as_of)
        if steady_end > day:
            day = steady_end
            continue
        walk.open_day(day)
        walk.pay(day, todays.get(day, []))
        walk.settle(day, todays.get(day, []))
        walk.close_day(day)
        day += timedelta(days=1)
    # The allowance of as_of itself excludes as_of's own closing principal (算头不算尾).
    before_today = (
        walk.book.principal_days - walk.outstanding() if as_of >= loan.contract_date else 0
    )
    walk.book.limit = walk.allowance(max(0, before_today))
    return _statement(loan, walk, as_of)


def _refuse_too_large(loan: Loan) -> None:
    """Refuse an amount past the largest any feed takes (money.LARGEST_AMOUNT), as the feeds
    and the engines refuse it: the engines' Int64 sums of a loan's amounts rest on it."""
    amounts = [("principal", loan.principal)] + [
        (f"instalment {line.seq} {column}", amount)
        for line in loan.installments
        for column, amount in (("principal_due", line.principal_due),
                               ("interest_due", line.interest_due), ("fee_due", line.fee_due))
    ]  # fmt: skip
    for what, amount in amounts:
        if amount > LARGEST_AMOUNT:
            raise DomainError(
                f"loan {loan.loan_id}: {what} {format_amount(amount)} is above "
                f"{format_amount(LARGEST_AMOUNT)}, the largest amount a feed takes"
            )


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
        if payment.amount > LARGEST_AMOUNT:
            raise DomainError(
                f"payment {payment.payment_id} amount {format_amount(payment.amount)} is above "
                f"{format_amount(LARGEST_AMOUNT)}, the largest amount a feed takes"
            )
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
    if item.seq < 0:  # a plan's part: its interest was charged when its instalment fell due
        line.interest_charged, line.fees_charged = item.interest_due, item.fee_due
        return []
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


def _statement(loan: Loan, walk: _Walk, as_of: date) -> LoanState:
    """Summarise the balances on `as_of` into the loan's state."""
    product, book, pauses = walk.product, walk.book, walk.pauses
    states = [_installment_state(line, as_of, product, pauses) for line in walk.lines]
    past = [s for s in states if s.effective_due_date is not None and s.effective_due_date < as_of]
    overdue = Overdue(
        principal=sum(s.principal for s in past),
        interest=sum(s.interest for s in past),
        penalty=sum(s.penalty for s in states),
        fees=sum(s.fees for s in past),
    )
    unpaid_due = [s.effective_due_date for s in states if s.effective_due_date and s.past_due]
    dpd = days_past_due(as_of, unpaid_due)
    if pauses.ageing and dpd:  # the days since the oldest's due date the ageing clock ran
        dpd = pauses.days_counted(AGEING, as_of - timedelta(days=dpd), as_of)
    settled = not any(s.open for s in states)
    return LoanState(
        loan_id=loan.loan_id,
        as_of=as_of,
        dpd=dpd,
        bucket=bucket_for(dpd, product.grace_days),
        stage=default_stage(dpd, product.grace_days, days_to_next_due(states, as_of), settled)
        if as_of >= loan.contract_date
        else NOT_LENT,
        overdue=overdue,
        outstanding_principal=walk.outstanding(),
        credit=book.credit,
        penalty_rate=walk.penalty_rate,
        cap_rule=walk.rule,
        allowance=book.limit,
        charged=book.charged,
        installments=tuple(states),
        charges=merge_charges(walk.charges),
        cap_cuts=tuple(walk.cuts),
        allocations=tuple(walk.allocations),
        pauses=pauses,
        revisions=tuple(r for r in walk.revisions if r.effective_on <= as_of),
        settlements=walk.settlement_states(as_of),
        plans=walk.plan_states(as_of),
        late_fee_limit=product.late_fee_limit,
    )


def _installment_state(
    line: InstallmentBalance, as_of: date, product: Product, pauses: Pauses
) -> InstallmentState:
    item = line.installment
    due = line.effective_due
    own_dpd = (as_of - due).days if due is not None and line.past_due_amount > 0 else 0
    if pauses.ageing and due is not None and own_dpd > 0:
        own_dpd = pauses.days_counted(AGEING, due, as_of)
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

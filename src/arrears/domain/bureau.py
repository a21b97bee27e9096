"""Credit-bureau reporting: a loan's record of a month (its status and amounts at the month's
end, from the domain's evaluation of that day), the 24-month status grid, and the pack's rule a
record must meet before it is furnished (docs/BUREAU.md).

The status codes are those of the People's Bank of China credit report's repayment grid
(个人信用报告 还款记录): `N` nothing past due, `*` nothing fell due in the month and nothing was
past due, `1`-`7` past due 1-30 ... 151-180 days and over 180 days (the loan's bucket, M1-M7+,
beyond its grace), `C` closed in the month, `#` a month not reported (unknown), `/` a month
before the loan was lent.
"""

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.citation import cited
from arrears.domain.errors import DomainError, Refusal
from arrears.domain.escalation import ACTIONS
from arrears.domain.loan import Loan, Payment
from arrears.domain.statement import InstallmentState, LoanState

NOT_LENT, UNKNOWN, NOTHING_DUE, CURRENT, CLOSED = "/", "#", "*", "N", "C"
PAST_DUE = {"M1": "1", "M2": "2", "M3": "3", "M4": "4", "M5": "5", "M6": "6", "M7+": "7"}
NEGATIVE = frozenset(PAST_DUE.values())
GRID_MONTHS = 24  # the months a credit report's repayment grid shows, this one last
# ASCII digits only: `\d` takes any script's (２０２５-０９ was taken, and kept as written in
# a dispute's audit entry: helper-114).
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
# The kinds of rule a record waits on (a pack's [bureau]).
PRE_NOTICE, CONTACTED_FIRST = "pre_notice", "contacted_first"


def month_of(text: str) -> tuple[date, date]:
    """The first and last day of a month written YYYY-MM; a clear refusal otherwise."""
    found = _MONTH.fullmatch(text)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1900:
        raise Refusal("a month is written YYYY-MM (e.g. 2025-10), not {month}", month=repr(text))
    first = date(int(found.group(1)), int(found.group(2)), 1)
    return first, month_end(first)


def month_end(first: date) -> date:
    """The last day of the month `first` is in."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def months_before(month: date, count: int) -> list[date]:
    """The first days of the `count` months before `month`'s, oldest first."""
    firsts: list[date] = []
    day = month
    for _ in range(count):
        day = (day - timedelta(days=1)).replace(day=1)
        firsts.append(day)
    return firsts[::-1]


@dataclass(frozen=True)
class MonthRecord:
    """What a loan's record of a month says (minor units): its status, days past due, the
    principal outstanding, what is past due (in all and its principal) and in how many lines,
    the principal and interest falling due in the month and the money paid in it."""

    loan_id: str
    borrower_id: str
    month: date  # its first day
    status: str
    dpd: int
    balance: int
    overdue: int
    overdue_principal: int
    overdue_lines: int
    due_in_month: int
    paid_in_month: int
    last_paid_on: date | None

    @property
    def negative(self) -> bool:
        """Whether the record tells of money past due (什么是不良信息: a status 1-7)."""
        return self.status in NEGATIVE


def month_record(
    loan: Loan,
    payments: Sequence[Payment],
    state: LoanState,
    month: date,
    state_on: Callable[[date], LoanState],
) -> MonthRecord | None:
    """The loan's record of the month from its state at the month's last day (`state`, the
    domain's evaluation of that day); None when it was not lent by then, or was closed
    before the month began (its record of the month it was closed in said `C`).
    `state_on`: the loan's state on another day, asked only of a loan closed at this month's
    end, of the day before the month (was it closed then already?)."""
    first, last = month, state.as_of
    if last != month_end(first):
        raise DomainError(f"loan {loan.loan_id}: a month's record is of its last day, not {last}")
    if loan.contract_date > last:
        return None
    done = closed(state)
    if done and loan.contract_date < first and closed(state_on(first - timedelta(days=1))):
        return None  # money paid since (held as credit, a cap refund) opens no new record
    paid = [p for p in payments if first <= p.paid_on <= last]
    return MonthRecord(
        loan_id=loan.loan_id,
        borrower_id=loan.borrower_id,
        month=first,
        status=CLOSED if done else _status(state, first, last),
        dpd=state.dpd,
        balance=state.outstanding_principal,
        overdue=state.overdue.total,
        overdue_principal=state.overdue.principal,
        overdue_lines=sum(1 for s in state.installments if _past(s, last)),
        due_in_month=_due_in(loan, state, first, last),
        paid_in_month=sum(p.amount for p in paid),
        last_paid_on=max((p.paid_on for p in payments if p.paid_on <= last), default=None),
    )


def closed(state: LoanState) -> bool:
    """Whether the loan owes nothing at all at the end of its state's day: no line open, no
    principal outstanding (any no instalment schedules too), nothing owed in all. A loan
    whose schedule has not all arrived yet is not closed."""
    return (
        not any(line.open for line in state.installments)
        and state.outstanding_principal == 0
        and state.owed_in_all == 0
    )


def _past(line: InstallmentState, last: date) -> bool:
    """Whether a line is past due at the end of `last` (as LoanState.overdue counts it)."""
    due = line.effective_due_date
    return line.past_due and due is not None and due < last


def _status(state: LoanState, first: date, last: date) -> str:
    """An open loan's status at the month's end: its bucket's code when past due beyond its
    grace, else `*` when nothing fell due in the month (on its due day as the business
    calendar and any extension moved it) and nothing is past due, else `N`."""
    if state.bucket in PAST_DUE:
        return PAST_DUE[state.bucket]
    fell_due = any(
        s.effective_due_date is not None and first <= s.effective_due_date <= last
        for s in state.installments
    )
    # Nothing past due, whatever the ageing clock says (a hold may stop it: dpd 0 then).
    owing = state.overdue.total > 0 or any(_past(s, last) for s in state.installments)
    return NOTHING_DUE if not fell_due and not owing else CURRENT


def _due_in(loan: Loan, state: LoanState, first: date, last: date) -> int:
    """The principal and interest falling due in the month: the schedule's lines (their due
    dates moved by any extension, their interest less what the cost cap cut) and the parts
    of an approved plan."""
    scheduled = {item.seq: item for item in loan.installments}
    due = 0
    for line in state.installments:
        item = scheduled.get(line.seq)
        when = line.effective_due_date
        if item is not None and when is not None and first <= when <= last:
            due += item.principal_due + item.interest_due - line.interest_cut
    for plan in state.plans:
        due += sum(p.principal + p.interest for p in plan.parts if first <= p.due_date <= last)
    return due


def grid(month: date, status: str, earlier: Mapping[date, str], lent_on: date) -> str:
    """The 24-month repayment grid ending with `month` (its `status`), oldest first: each
    earlier month's furnished status (`earlier`, by the month's first day), `#` for one not
    furnished, `/` for one before the loan was lent."""
    codes = []
    for first in months_before(month, GRID_MONTHS - 1):
        codes.append(NOT_LENT if month_end(first) < lent_on else earlier.get(first, UNKNOWN))
    return "".join(codes) + status


@dataclass(frozen=True)
class ReportingRule:
    """A pack's rule a record must meet before it is furnished, with its legal source.

    `pre_notice`: the first record telling of money past due waits until the borrower was told
    beforehand, by an `action` of the ladder done by the month's end. `contacted_first`: no
    record at all until the borrower was spoken to (a call or visit ending in one of
    `outcomes`) or sent a letter, e-mail or text at least `letter_days` before the month's end
    that did not come back."""

    rule_id: str
    kind: str
    source: str
    verified: bool
    action: str = ""
    outcomes: tuple[str, ...] = ()
    letter_days: int = 0

    def __post_init__(self) -> None:
        if self.kind not in (PRE_NOTICE, CONTACTED_FIRST):
            raise DomainError(
                f"{self.rule_id}: kind must be {PRE_NOTICE} or {CONTACTED_FIRST}, not {self.kind!r}"
            )
        if not self.source.strip():
            raise DomainError(f"{self.rule_id}: every rule cites its legal source")
        if self.kind == PRE_NOTICE and self.action not in ACTIONS:
            raise DomainError(
                f"{self.rule_id}: a pre-notice rule names the ladder action that tells the "
                f"borrower, one of {', '.join(ACTIONS)}; not {self.action!r}"
            )
        if self.kind == CONTACTED_FIRST and (not self.outcomes or self.letter_days < 0):
            raise DomainError(
                f"{self.rule_id}: a contacted-first rule names the outcomes of a conversation "
                f"and the days a letter waits (0 or more)"
            )

    @property
    def cited(self) -> str:
        """The source as a withheld record cites it (labelled when not verified)."""
        return cited(self.source, self.verified)


@dataclass(frozen=True)
class Evidence:
    """What a reporting rule reads of a loan and its borrower up to the month's end: whether
    an earlier month was furnished (and whether one told of money past due), the days the
    pre-notice action was done, the days the borrower was spoken to, and the days a letter,
    e-mail or text reached them (not came back)."""

    furnished_before: bool = False
    negative_before: bool = False
    told_on: tuple[date, ...] = ()
    spoken_on: tuple[date, ...] = ()
    written_on: tuple[date, ...] = ()


def withheld(rule: ReportingRule | None, record: MonthRecord, evidence: Evidence) -> str | None:
    """Why the record may not be furnished under the pack's rule (None: it may)."""
    if rule is None:
        return None
    end = month_end(record.month)
    if rule.kind == PRE_NOTICE:
        if not record.negative or evidence.negative_before:
            return None
        if any(day <= end for day in evidence.told_on):
            return None
        return (
            f"the first record of {record.loan_id} telling of money past due (status "
            f"{record.status}) waits until the borrower is told beforehand: no {rule.action} "
            f"done by {end.isoformat()}"
        )
    if evidence.furnished_before or any(day <= end for day in evidence.spoken_on):
        return None
    posted_by = end - timedelta(days=rule.letter_days)
    if any(day <= posted_by for day in evidence.written_on):
        return None
    return (
        f"nothing of {record.loan_id} is furnished before the borrower is spoken to, or sent a "
        f"letter, e-mail or text by {posted_by.isoformat()} that did not come back"
    )

"""Promises to pay judged against a loan's payments: kept, broken, or still open (the reference
the end-of-day run's promises step agrees with, batch/promises.py)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.errors import Refusal
from arrears.domain.loan import Payment
from arrears.domain.money import format_amount

# Lender policy, not law: a promise to pay is a commitment of days, worked within one monthly
# billing cycle. Paying over longer is a repayment plan or an extension, which go through the
# approval limits (domain/approvals.py); a promise months away would put off its verdict, and
# the queue's reading of a broken one (domain/queue_priority.py), without anyone's approval.
PROMISE_DAYS = 30


@dataclass(frozen=True)
class Promise:
    """A borrower's promise, made on `made_on`, to pay `amount` (minor units) by `due_on`."""

    promise_id: str
    amount: int
    made_on: date
    due_on: date


def refuse_promise_terms(amount: int, due_on: date, today: date) -> None:
    """Refuse a promise, made `today`, for nothing or falling due before today or more than
    PROMISE_DAYS after it (checked before the loan is evaluated on its due day)."""
    if amount <= 0:
        raise Refusal("a promise is for an amount greater than zero")
    if due_on < today:
        raise Refusal(
            "a promise cannot fall due in the past ({due_on} is before {today})",
            due_on=due_on.isoformat(),
            today=today.isoformat(),
        )
    if due_on > today + timedelta(days=PROMISE_DAYS):
        raise Refusal(
            "a promise falls due at most {days} days ahead ({due_on} is after {last}): "
            "paying over longer is a repayment plan or an extension",
            days=str(PROMISE_DAYS),
            due_on=due_on.isoformat(),
            last=(today + timedelta(days=PROMISE_DAYS)).isoformat(),
        )


def refuse_promise_amount(amount: int, due_on: date, today: date, owed: int) -> None:
    """Refuse a promise, made `today`, for more than the loan owes in all on its due day
    (`owed`: LoanState.owed_in_all of that day counting only the payments dated before today:
    the money of today on counts towards the promise, judge_promise), or on a loan that owes
    nothing then."""
    if owed <= 0:
        raise Refusal("the loan owes nothing on {due_on}: there is nothing to promise",
                      due_on=due_on.isoformat())  # fmt: skip
    if amount > owed:
        raise Refusal(
            "a promise of {amount} is more than the loan owes in all on {due_on} ({owed}, "
            "counting what is paid from {today} on towards the promise)",
            amount=format_amount(amount),
            due_on=due_on.isoformat(),
            owed=format_amount(owed),
            today=today.isoformat(),
        )


@dataclass(frozen=True)
class Verdict:
    """What a promise is on a day: `open`, `kept` (on `settled_on`, the day the money reached
    it) or `broken` (on `settled_on`, the day after its due day); `paid`, what was paid
    towards it by then (a kept promise: by the day it was kept)."""

    status: str
    settled_on: date | None
    paid: int


def judge_promise(promise: Promise, payments: Iterable[Payment], as_of: date) -> Verdict:
    """The promise as of the end of `as_of`, from every payment of its loan.

    Payments dated from the day the promise was made through its due day count (a payment
    of the day it was made too: a day is all the desk and the feeds know of either, so the
    money of that day is money paid since the promise), those dated after `as_of` not yet.
    It is kept on the day they first add up to its amount, broken the day after its due
    day otherwise, open until then. Nothing else counts: not the day a payment arrived, nor
    which runs came before.
    """
    last = min(promise.due_on, as_of)
    paid = 0
    by_day: dict[date, int] = {}
    for payment in payments:
        if promise.made_on <= payment.paid_on <= last:
            by_day[payment.paid_on] = by_day.get(payment.paid_on, 0) + payment.amount
    for day in sorted(by_day):
        paid += by_day[day]
        if paid >= promise.amount:
            return Verdict("kept", day, paid)
    if promise.due_on < as_of:
        return Verdict("broken", promise.due_on + timedelta(days=1), paid)
    return Verdict("open", None, paid)

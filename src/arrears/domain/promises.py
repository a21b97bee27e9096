"""Promises to pay judged against a loan's payments: kept, broken, or still open (the reference
the end-of-day run's promises step agrees with, batch/promises.py)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.loan import Payment


@dataclass(frozen=True)
class Promise:
    """A borrower's promise, made on `made_on`, to pay `amount` (minor units) by `due_on`."""

    promise_id: str
    amount: int
    made_on: date
    due_on: date


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

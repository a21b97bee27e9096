"""Roll (flow) rates between delinquency buckets, month over month, loan by loan.

The roll rate from bucket k in month t is the share of the loans in k at the end of month
t-1 that are in k+1 at the end of t: the loans are followed one by one (the run keeps each
loan's bucket at every month's end it ran on), so the rate is at most 100 %. Counts alone
could not say it: a bucket at a month's end also holds loans that skipped one (31 days age a
loan 30 days past due by two buckets), stayed (a 28-day February) or came back from a worse
one (a part payment), and their ratio went above 100 %. A month counts only when the book
was run on its last day and on the last day of the month before: a month not yet over has no
rate.
"""

import calendar
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from arrears.domain.delinquency import BUCKETS

# (bucket at the end of the month before, bucket at the month's end; None: the loan had
# left the book) → loans
Rolls = Mapping[tuple[str, str | None], int]


@dataclass(frozen=True)
class FlowRate:
    """The share of the loans in `source` at the end of the month before `month` that were in
    `target` at the end of `month` (None when the source bucket was empty)."""

    month: str  # YYYY-MM
    source: str
    target: str
    rate: Fraction | None


def is_month_end(day: date) -> bool:
    """Whether a day is the last of its month."""
    return (day + timedelta(days=1)).day == 1


def next_month_end(day: date) -> date:
    """The last day of the month after the day's."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, calendar.monthrange(year, month)[1])


def month_pairs(ends: Sequence[date]) -> list[tuple[date, date]]:
    """The month ends (days a run was made on) whose next month's end is one too, with it."""
    known = {end for end in ends if is_month_end(end)}
    return [(end, next_month_end(end)) for end in sorted(known) if next_month_end(end) in known]


def flow_rates(rolls: Sequence[tuple[date, Rolls]]) -> list[FlowRate]:
    """Roll rates M0→M1 … M6→M7+ of each month (its end, and how its loans moved there from
    the month before's end), oldest first."""
    rates = []
    for end, moved in sorted(rolls, key=lambda item: item[0]):
        for source, target in itertools.pairwise(BUCKETS):
            base = sum(n for (was, _), n in moved.items() if was == source)
            rate = Fraction(moved.get((source, target), 0), base) if base else None
            rates.append(FlowRate(f"{end:%Y-%m}", source, target, rate))
    return rates

"""Roll (flow) rates between delinquency buckets, month over month.

The net flow rate into bucket k+1 in month t is the number of loans in k+1 at the end of t
over the number in k at the end of t-1: the share of a bucket that rolled one bucket further
in a month (the industry's "net flow" method; it needs only month-end counts, so it can be
read off the end-of-day runs' summaries). M7+ also keeps what was there the month before,
so a count cannot tell what rolled into it: M6→M7+ is not computed.
"""

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from arrears.domain.delinquency import BUCKETS


@dataclass(frozen=True)
class FlowRate:
    """The share of `source` at the end of the month before that was in `target` at the end
    of `month` (None when the source bucket was empty)."""

    month: str  # YYYY-MM
    source: str
    target: str
    rate: Fraction | None


def month_ends(
    runs: Sequence[tuple[date, Mapping[str, int]]],
) -> list[tuple[str, Mapping[str, int]]]:
    """The last run's bucket counts of each month, oldest first."""
    last: dict[str, tuple[date, Mapping[str, int]]] = {}
    for day, counts in runs:
        key = f"{day:%Y-%m}"
        if key not in last or day > last[key][0]:
            last[key] = (day, counts)
    return [(key, last[key][1]) for key in sorted(last)]


def flow_rates(runs: Sequence[tuple[date, Mapping[str, int]]]) -> list[FlowRate]:
    """Net flow rates M0→M1 … M5→M6 for every month after the first with a run."""
    ends = month_ends(runs)
    rates = []
    for (_, before), (month, after) in itertools.pairwise(ends):
        for source, target in itertools.pairwise(BUCKETS[:-1]):
            base = before.get(source, 0)
            rate = Fraction(after.get(target, 0), base) if base else None
            rates.append(FlowRate(month, source, target, rate))
    return rates

"""Pauses: the days a borrower's holds stop a loan's clocks (Fineract's delinquency pause).

A product names which hold kinds stop which clock (docs/MONEY_RULES.md, "Pauses"):
- `ageing`: a paused day does not count in days past due, so not in the bucket or the stage;
- `charges`: a paused day accrues no penalty interest and does not count in the grace of the
  charges (an instalment's late fee and retroactive penalty wait for its unpaused days).
A clock stands still on every day a hold of one of its kinds covers (its first to its last
day; an open hold: every day from its first). Nothing else moves with it: contract interest
falls due on its day and the cap's allowance counts every day.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from arrears.domain.contact import Hold

AGEING, CHARGES = "ageing", "charges"
CLOCKS = (AGEING, CHARGES)
# A span of days a clock stands still: its first and last day (None: until lifted).
Span = tuple[date, date | None]
_ONE = timedelta(days=1)


def merged(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Spans as the days they cover: sorted, overlapping or touching ones joined (one hold
    inside another, or two back to back, stop the clock as one span does)."""
    out: list[Span] = []
    for first, last in sorted(spans, key=lambda s: (s[0], s[1] is None, s[1] or s[0])):
        if out:
            end = out[-1][1]
            if end is None:
                continue
            if first <= end + _ONE:
                out[-1] = (out[-1][0], None if last is None else max(end, last))
                continue
        out.append((first, last))
    return tuple(out)


@dataclass(frozen=True)
class Pauses:
    """The days each clock of one loan stands still (merged spans, `merged`)."""

    ageing: tuple[Span, ...] = ()
    charges: tuple[Span, ...] = ()

    @classmethod
    def of(cls, holds: Iterable[Hold], ageing: Sequence[str], charges: Sequence[str]) -> "Pauses":
        """The pauses a borrower's `holds` make under a product that stops the ageing clock
        for the kinds `ageing` and the charges clock for the kinds `charges`."""
        held = list(holds)
        return cls(
            merged((h.starts_on, h.ends_on) for h in held if h.kind in ageing),
            merged((h.starts_on, h.ends_on) for h in held if h.kind in charges),
        )

    def __bool__(self) -> bool:
        return bool(self.ageing or self.charges)

    def spans(self, clock: str) -> tuple[Span, ...]:
        """The spans of one clock."""
        return self.ageing if clock == AGEING else self.charges

    def stops(self, clock: str, day: date) -> bool:
        """Whether `clock` stands still on `day`."""
        return any(first <= day and (last is None or day <= last)
                   for first, last in self.spans(clock))  # fmt: skip

    def days_stopped(self, clock: str, after: date, upto: date) -> int:
        """The days d with after < d ≤ upto on which `clock` stands still."""
        total = 0
        for first, last in self.spans(clock):
            low = max(first, after + _ONE)
            high = upto if last is None else min(last, upto)
            total += max(0, (high - low).days + 1)
        return total

    def days_counted(self, clock: str, after: date, upto: date) -> int:
        """The days d with after < d ≤ upto on which `clock` runs (0 when upto ≤ after)."""
        if upto <= after:
            return 0
        return (upto - after).days - self.days_stopped(clock, after, upto)

    def next_stop(self, clock: str, day: date) -> date | None:
        """The first day on or after `day` on which `clock` stands still (None: none)."""
        found = [max(first, day) for first, last in self.spans(clock)
                 if last is None or last >= day]  # fmt: skip
        return min(found, default=None)


NO_PAUSES = Pauses()

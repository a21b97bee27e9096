"""The end-of-day run: evaluate every loan on `as_of`, store its state, summarise the day.

Each loan's derived ledger (charges, cap cuts, allocations, state) is rebuilt from the domain's
evaluation, so a run is idempotent, catches up skipped days by construction, and the state
after `run D` is the same whether runs were made daily, once, or twice (schedule independence).
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from arrears.domain.delinquency import BUCKETS
from arrears.domain.errors import DomainError
from arrears.domain.loan import Loan, Payment
from arrears.domain.money import format_amount
from arrears.domain.stages import STAGES
from arrears.domain.statement import LoanState, posted_within
from arrears.domain.terms import Terms

CHUNK = 2_000
Progress = Callable[[int], None]


class RunStore(Protocol):
    """What the run needs from the store."""

    def count_loans(self) -> int:
        """How many loans the book holds."""
        ...

    def load_book(self) -> Iterable[tuple[Loan, list[Payment]]]:
        """Every loan with its payments, streamed."""
        ...

    def last_run(self, before: date | None = None) -> date | None:
        """The latest completed run's date (strictly before `before` when given)."""
        ...

    def save_states(self, states: Sequence[LoanState]) -> None:
        """Replace these loans' derived ledger and state, in one transaction."""
        ...

    def record_run(self, as_of: date, loans: int, summary: dict[str, object], at: datetime) -> None:
        """Mark the run for `as_of` complete."""
        ...


class RunRefused(DomainError):
    """The run cannot go ahead (e.g. it would move the book back in time)."""


@dataclass
class RunSummary:
    """Counts and amounts of one run; amounts are those posted since the previous run."""

    as_of: date
    since: date | None
    loans: int = 0
    buckets: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    interest_posted: int = 0
    penalty_posted: int = 0
    fees_posted: int = 0
    cap_cut: int = 0

    def add(self, state: LoanState) -> None:
        """Count one evaluated loan."""
        self.loans += 1
        self.buckets[state.bucket] += 1
        self.stages[state.stage] += 1
        start = self.since + timedelta(days=1) if self.since else date.min
        for charge in state.charges:
            amount = posted_within(charge, start, self.as_of)
            if charge.kind == "interest":
                self.interest_posted += amount
            elif charge.kind == "penalty":
                self.penalty_posted += amount
            else:
                self.fees_posted += amount
        self.cap_cut += sum(c.amount for c in state.cap_cuts if start <= c.day <= self.as_of)

    def bucket_counts(self) -> dict[str, int]:
        """Loans per bucket, every bucket listed."""
        return {b: self.buckets.get(b, 0) for b in BUCKETS}

    def stage_counts(self) -> dict[str, int]:
        """Loans per stage, every stage listed."""
        return {s: self.stages.get(s, 0) for s in STAGES}


def run_day(
    store: RunStore, terms: Terms, as_of: date, at: datetime, progress: Progress | None = None
) -> RunSummary:
    """Run the end of day for `as_of` over the whole book (re-running the latest day is allowed)."""
    last = store.last_run()
    if last is not None and as_of < last:
        raise RunRefused(
            f"the book was already run up to {last}; a run for {as_of} would move it back in time"
        )
    # Amounts are reported since the previous run, so re-running a day reports the same.
    summary = RunSummary(as_of=as_of, since=store.last_run(before=as_of))
    batch: list[LoanState] = []
    for loan, payments in store.load_book():
        state = terms.evaluate(loan, payments, as_of)
        summary.add(state)
        batch.append(state)
        if len(batch) >= CHUNK:
            store.save_states(batch)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        store.save_states(batch)
        if progress:
            progress(len(batch))
    store.record_run(as_of, summary.loans, summary_document(summary), at)
    return summary


def summary_document(summary: RunSummary) -> dict[str, object]:
    """The run's JSON document (CONTRACT.md `arrears run --json`)."""
    return {
        "as_of": summary.as_of.isoformat(),
        "since": summary.since.isoformat() if summary.since else None,
        "loans": summary.loans,
        "buckets": summary.bucket_counts(),
        "stages": summary.stage_counts(),
        "interest_posted": format_amount(summary.interest_posted),
        "penalty_posted": format_amount(summary.penalty_posted),
        "fees_posted": format_amount(summary.fees_posted),
        "cap_cut": format_amount(summary.cap_cut),
        # Contact planning arrives with the strategy ladder and compliance engine.
        "planned_contacts": {},
        "blocked_contacts": {},
    }

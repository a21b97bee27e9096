"""Where the end-of-day run writes: derived ledger rows, loan states and completed runs."""

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from arrears.adapters.db.tables import allocations, cap_cuts, charges, loan_states, loans, runs
from arrears.domain.loan import Loan, Payment
from arrears.domain.statement import LoanState
from arrears.services.ports import LedgerStore

# seq 0 stands for "no instalment" (money held as credit), so the column can be a key.
CREDIT_SEQ = 0


class SqlRunStore:
    """Run-side persistence on SQLite or PostgreSQL (SQLAlchemy Core)."""

    def __init__(self, engine: Engine, ledger: LedgerStore) -> None:
        self.engine = engine
        self.ledger = ledger

    def load_book(self) -> Iterator[tuple[Loan, list[Payment]]]:
        """Every loan with its payments, streamed from the ledger."""
        return self.ledger.load_book()

    def count_loans(self) -> int:
        """How many loans the book holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(loans)).scalar_one())

    def last_run(self, before: date | None = None) -> date | None:
        """The latest completed run's date (strictly before `before` when given)."""
        query = select(func.max(runs.c.as_of))
        if before is not None:
            query = query.where(runs.c.as_of < before)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return value if isinstance(value, date) else None

    def save_states(self, states: Sequence[LoanState]) -> None:
        """Replace these loans' derived ledger and state, in one transaction."""
        ids = [s.loan_id for s in states]
        with self.engine.begin() as conn:
            for table in (charges, cap_cuts, allocations, loan_states):
                for chunk in _chunks(ids, 500):
                    conn.execute(delete(table).where(table.c.loan_id.in_(chunk)))
            for table, rows in _rows(states).items():
                if rows:
                    conn.execute(insert(table), rows)

    def record_run(self, as_of: date, loans: int, summary: dict[str, object], at: datetime) -> None:
        """Mark the run for `as_of` complete (a re-run replaces the record)."""
        values = {"finished_at": at, "loans": loans, "summary": summary}
        with self.engine.begin() as conn:
            done = conn.execute(update(runs).where(runs.c.as_of == as_of).values(**values))
            if done.rowcount == 0:
                conn.execute(insert(runs).values(as_of=as_of, **values))

    def run_summary(self, as_of: date) -> dict[str, Any] | None:
        """The stored summary of the run for `as_of`."""
        with self.engine.connect() as conn:
            value = conn.execute(select(runs.c.summary).where(runs.c.as_of == as_of)).scalar()
        return dict(value) if value is not None else None


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _rows(states: Sequence[LoanState]) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {
        charges: [],
        cap_cuts: [],
        allocations: [],
        loan_states: [],
    }
    for s in states:
        out[loan_states].append(_state_row(s))
        out[charges].extend(
            {"loan_id": s.loan_id, "seq": c.seq, "kind": c.kind, "posted_on": c.posted_on,
             "first_day": c.first_day, "last_day": c.last_day, "base": c.base,
             "daily": c.daily, "amount": c.amount}
            for c in s.charges
        )  # fmt: skip
        out[cap_cuts].extend(_cut_rows(s))
        out[allocations].extend(_allocation_rows(s))
    return out


def _state_row(s: LoanState) -> dict[str, Any]:
    return {
        "loan_id": s.loan_id,
        "as_of": s.as_of,
        "dpd": s.dpd,
        "bucket": s.bucket,
        "stage": s.stage,
        "overdue_principal": s.overdue.principal,
        "overdue_interest": s.overdue.interest,
        "overdue_penalty": s.overdue.penalty,
        "overdue_fees": s.overdue.fees,
        "outstanding_principal": s.outstanding_principal,
        "credit": s.credit,
        "charged": s.charged,
    }


def _cut_rows(s: LoanState) -> list[dict[str, Any]]:
    # Cuts of one kind on one instalment and day are summed (retroactive penalty days cut on
    # the crossing day land on the same key).
    summed: dict[tuple[int, str, date], dict[str, Any]] = {}
    for c in s.cap_cuts:
        key = (c.seq, c.kind, c.day)
        row = summed.setdefault(
            key, {"loan_id": s.loan_id, "seq": c.seq, "kind": c.kind, "day": c.day, "amount": 0,
                  "rule_id": c.rule_id, "source": c.source},
        )  # fmt: skip
        row["amount"] += c.amount
    return list(summed.values())


def _allocation_rows(s: LoanState) -> list[dict[str, Any]]:
    # One row per source, instalment, component and day (credit may be drawn on several days).
    summed: dict[tuple[str, int, str, date], dict[str, Any]] = {}
    for a in s.allocations:
        seq = a.seq if a.seq is not None else CREDIT_SEQ
        key = (a.payment_id, seq, a.component, a.paid_on)
        row = summed.setdefault(
            key, {"loan_id": s.loan_id, "payment_id": a.payment_id, "seq": seq,
                  "component": a.component, "amount": 0, "paid_on": a.paid_on},
        )  # fmt: skip
        row["amount"] += a.amount
    return list(summed.values())

"""Case work records: promises to pay, and plan items completed with their outcome."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update

from arrears.adapters.db import tables


@dataclass(frozen=True)
class PlannedItem:
    """One outbox row waiting to be worked."""

    action_key: str
    loan_id: str
    borrower_id: str
    action: str
    channel: str | None
    window_start: datetime | None
    window_end: datetime | None


class SqlCaseStore:
    """Promises and the outbox's worked items, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def planned_for(self, day: date) -> list[PlannedItem]:
        """The outbox items planned for a day and not yet worked."""
        o = tables.outbox.c
        query = (
            select(o.action_key, o.loan_id, o.borrower_id, o.action, o.channel, o.window_start,
                   o.window_end)
            .where(and_(o.planned_for == day, o.status == "planned"))
            .order_by(o.action_key)
        )  # fmt: skip
        with self.engine.connect() as conn:
            return [PlannedItem(*row) for row in conn.execute(query)]

    def complete(self, action_key: str, status: str, outcome: str) -> None:
        """Mark a planned item worked (done or failed) with its outcome."""
        with self.engine.begin() as conn:
            conn.execute(
                update(tables.outbox)
                .where(tables.outbox.c.action_key == action_key)
                .values(status=status, outcome=outcome)
            )

    def record_promise(self, promise: dict[str, Any]) -> None:
        """A promise to pay, open until the run judges it kept or broken."""
        with self.engine.begin() as conn:
            conn.execute(insert(tables.promises).values(**promise, status="open", settled_on=None))

    def overdue_total(self, loan_id: str) -> int:
        """What the loan owes past due, as of the last run."""
        s = tables.loan_states.c
        total = s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees
        with self.engine.connect() as conn:
            value = conn.execute(select(total).where(s.loan_id == loan_id)).scalar()
        return int(value or 0)

"""Credit-bureau records on SQL: what earlier exports furnished, what a reporting rule reads
(the ladder's actions done, the attempts that reached a borrower), a month's records stored in
one transaction with their audit entry (services/bureau_export.py), and the borrowers'
disputes of them (services/bureau_disputes.py)."""

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, and_, case, delete, func, insert, select, update

from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.instants import utc
from arrears.adapters.db.lookups import LOOKUP_CHUNK, rows_for_keys
from arrears.adapters.db.tables import bureau_disputes, bureau_records, contact_attempts, outbox
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.bureau_disputes import Dispute
from arrears.domain.escalation import DONE_OUTCOMES
from arrears.services.bureau_ports import Attempt


class SqlBureauStore:
    """The bureau records and what their rules read, on SQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def furnished(self, loan_ids: Collection[str], before: date) -> dict[str, dict[date, str]]:
        """Each loan's statuses furnished in months before `before` (withheld ones left out),
        by the month's first day."""
        r = bureau_records.c
        query = select(r.loan_id, r.month, r.status).where(
            r.month < before, r.withheld_rule.is_(None)
        )
        found: dict[str, dict[date, str]] = {}
        with self.engine.connect() as conn:
            for loan_id, month, status in rows_for_keys(conn, query, r.loan_id, loan_ids):
                found.setdefault(loan_id, {})[month] = status
        return found

    def done_on(self, loan_ids: Collection[str], action: str, by: date) -> dict[str, list[date]]:
        """The days an action of the ladder planned for each loan up to `by` was done: its
        outcome done, sent or delivered, or (none recorded) its status done, as the
        escalation guards read the outbox (people_index.py). The outbox keeps no day an
        action was done: the day it was planned for stands for it."""
        o = outbox.c
        outcome = func.coalesce(o.outcome, case((o.status == "done", "done"), else_="failed"))
        query = select(o.loan_id, o.planned_for).where(
            o.action == action, outcome.in_(DONE_OUTCOMES), o.planned_for <= by
        )
        found: dict[str, list[date]] = {}
        with self.engine.connect() as conn:
            for loan_id, day in rows_for_keys(conn, query, o.loan_id, loan_ids):
                found.setdefault(loan_id, []).append(day)
        return found

    def attempts(self, borrower_ids: Collection[str], until: datetime) -> dict[str, list[Attempt]]:
        """Each borrower's own contact attempts (not a registered contact's) before `until`."""
        a = contact_attempts.c
        query = select(a.borrower_id, a.channel, a.outcome, a.at).where(
            a.contact_id.is_(None), a.at < until.astimezone(UTC)
        )
        found: dict[str, list[Attempt]] = {}
        with self.engine.connect() as conn:
            for borrower_id, channel, outcome, at in rows_for_keys(
                conn, query, a.borrower_id, borrower_ids
            ):
                found.setdefault(borrower_id, []).append(Attempt(channel, outcome, utc(at)))
        return found

    def replace_month(
        self,
        month: date,
        jurisdiction: str,
        rows: Sequence[Mapping[str, Any]],
        entry: AuditEntry,
        publish: Callable[[], None],
    ) -> None:
        """The month's records of a jurisdiction's loans, in place of any made before, with
        the export's audit entry, in one transaction; `publish` is done last before it is
        committed (if it fails, nothing is stored)."""
        r = bureau_records.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(bureau_records).where(and_(r.month == month, r.jurisdiction == jurisdiction))
            )
            # A loan whose product moved to this pack since keeps one record of the month: the
            # one made now (its record under the other pack is replaced).
            ids = sorted({str(row["loan_id"]) for row in rows})
            for start in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[start : start + LOOKUP_CHUNK]
                conn.execute(delete(bureau_records).where(r.month == month, r.loan_id.in_(chunk)))
            if rows:
                conn.execute(insert(bureau_records), [dict(row) for row in rows])
            append_audit(conn, entry)
            publish()

    def furnished_record(self, loan_id: str, month: date) -> str | None:
        """The jurisdiction the loan's record of the month was furnished under (None: it was
        not furnished: never exported, or withheld)."""
        r = bureau_records.c
        query = select(r.jurisdiction).where(
            r.loan_id == loan_id, r.month == month, r.withheld_rule.is_(None)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return str(found) if found is not None else None

    def add_dispute(self, row: Mapping[str, Any], entry: Callable[[int], AuditEntry]) -> int:
        """Store a dispute with its audit entry (`entry`: made of its id); its id."""
        with self.engine.begin() as conn:
            found = int(conn.execute(
                insert(bureau_disputes).values(**row).returning(bureau_disputes.c.dispute_id)
            ).scalar_one())  # fmt: skip
            append_audit(conn, entry(found))
        return found

    def dispute(self, dispute_id: int) -> Dispute | None:
        """One dispute (None: no such id)."""
        d = bureau_disputes.c
        with self.engine.connect() as conn:
            row = conn.execute(select(bureau_disputes).where(d.dispute_id == dispute_id)).first()
        return _dispute(row) if row is not None else None

    def disputes(self) -> list[Dispute]:
        """Every dispute, oldest first."""
        d = bureau_disputes.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(bureau_disputes).order_by(d.dispute_id)).all()
        return [_dispute(row) for row in rows]

    def answer_dispute(self, dispute_id: int, answer: Mapping[str, Any], entry: AuditEntry) -> bool:
        """Record the answer with its audit entry, only while the dispute is unanswered
        (False: answered meanwhile, nothing written)."""
        d = bureau_disputes.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(bureau_disputes)
                .where(d.dispute_id == dispute_id, d.answered_on.is_(None))
                .values(**answer)
            ).rowcount
            if done != 1:
                return False  # nothing was changed: nothing to audit
            append_audit(conn, entry)
        return True


def _dispute(row: Any) -> Dispute:
    """A stored dispute."""
    return Dispute(row.dispute_id, row.loan_id, row.month, row.received_on, row.due_on,
                   row.jurisdiction, row.rule, row.reason, row.answered_on, row.outcome,
                   row.answer)  # fmt: skip

"""Field visits and the legal track on SQL, and a case's history of actions for the guards."""

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.casework_tables import field_visits, legal_cases, legal_steps, loan_flags
from arrears.adapters.db.contact_store import insert_attempt, still_as_seen
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.engine_store import DONE, LETTERS_SQL, PLACEMENTS_SQL, attempts_of
from arrears.adapters.db.frames_io import read_frame
from arrears.adapters.db.instants import utc
from arrears.adapters.db.tables import OUTBOX_WORKED, borrowers, loans
from arrears.adapters.people_index import FALLBACK_ZONE, LoanHistory, PhoneReach
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal, Term
from arrears.domain.escalation import ActionRecord
from arrears.domain.field_visits import OPEN
from arrears.domain.legal_deadlines import ENDS_DEADLINE, Deadline
from arrears.domain.legal_track import LegalStep, check_next, referral_after, reopens
from arrears.services.track_ports import VisitContact


class _Undone(Exception):
    """Raised inside a transaction to roll it back: what it was to change had changed."""


class SqlTrackStore:
    """Implements services.track_ports.TrackStore over a SQLAlchemy engine."""

    def __init__(self, engine: Engine, jurisdictions: Mapping[str, str]) -> None:
        self.engine = engine
        self.jurisdictions = jurisdictions  # product code -> jurisdiction (its pack's zone)

    def history(self, loan_id: str) -> list[ActionRecord]:
        """The case's actions on record, by the nightly run's rules (people_index.LoanHistory:
        calls from the contact log, each once; the plan's worked actions), the legal track's
        letters and the desk's agency placements."""
        with self.engine.connect() as conn:
            owner, product, phone, timezone = conn.execute(
                select(loans.c.borrower_id, loans.c.product, borrowers.c.phone,
                       borrowers.c.timezone)
                .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
                .where(loans.c.loan_id == loan_id)
            ).one()  # fmt: skip
            done = read_frame(
                conn,
                "SELECT loan_id, action, planned_for, status, outcome FROM outbox"
                f" WHERE {OUTBOX_WORKED} AND loan_id = :loan",
                DONE,
                loan=loan_id,
            )
            letters = read_frame(conn, LETTERS_SQL + " AND c.loan_id = :loan", DONE, loan=loan_id)
            placed = read_frame(conn, PLACEMENTS_SQL + " AND d.loan_id = :loan", DONE, loan=loan_id)
        attempts = attempts_of(self.engine, [owner])
        owners = pl.DataFrame({"loan_id": [loan_id], "borrower_id": [owner]})
        # The borrower's number and day zone as the night's plan sees them (under the pack of
        # this loan's product), for LoanHistory to tell their own calls and local days.
        jurisdiction = self.jurisdictions.get(product)
        pack = contact_packs().get(jurisdiction or "")
        row = {
            "borrower_id": owner, "jurisdiction": jurisdiction, "phone": phone,
            "timezone": timezone, "default_zone": pack.default_zone if pack else FALLBACK_ZONE,
        }  # fmt: skip
        reach = PhoneReach(pl.DataFrame([row], schema=dict.fromkeys(row, pl.String)))
        history = LoanHistory(attempts, pl.concat([done, letters, placed]), owners, reach)
        return history.of([loan_id]).get(loan_id, [])

    # ── field visits ─────────────────────────────────────────────────────────────────────

    def add_visit(
        self, row: dict[str, Any], audit: AuditEntry, open_from: date, check: Callable[[], object]
    ) -> int:
        """Store a visit request; its id. Refused while the loan has a visit open (requested
        or approved, planned on `open_from` or later: one not yet lapsed), and when `check`
        raises, both once the write lock is held (two requests at once store one)."""
        v = field_visits.c
        with self.engine.begin() as conn:
            append_audit(conn, audit)  # first: the write lock before any read (see _place)
            found = conn.execute(
                select(v.visit_id, v.status, v.planned_on)
                .where(v.loan_id == row["loan_id"], v.status.in_(OPEN), v.planned_on >= open_from)
                .order_by(v.visit_id)
            ).first()
            if found is not None:
                raise Refusal(
                    "case {loan_id} has visit {visit_id} open ({status}, planned for "
                    "{planned_on}): one visit at a time",
                    loan_id=repr(row["loan_id"]),
                    visit_id=str(found.visit_id),
                    status=Term(f"visit:{found.status}", found.status),
                    planned_on=found.planned_on.isoformat(),
                )
            check()
            query = insert(field_visits).values(**row).returning(v.visit_id)
            return int(conn.execute(query).scalar_one())

    def visit(self, visit_id: int) -> dict[str, Any] | None:
        """One visit."""
        with self.engine.connect() as conn:
            row = conn.execute(select(field_visits).where(field_visits.c.visit_id == visit_id))
            found = row.mappings().first()
        return _plain(found) if found is not None else None

    def visits(self, loan_id: str) -> list[dict[str, Any]]:
        """A case's visits, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(field_visits)
                .where(field_visits.c.loan_id == loan_id)
                .order_by(field_visits.c.visit_id.desc())
            ).mappings()
            return [_plain(r) for r in rows]

    def set_visit(
        self,
        visit_id: int,
        was: str,
        values: dict[str, Any],
        audit: AuditEntry,
        check: Callable[[], object] | None = None,
    ) -> bool:
        """Move a visit on from status `was`; False if it was no longer in it. `check` is
        asked once the write lock is held (an approval's guard and debt: a placement recalled
        or a loan paid meanwhile); if it raises, nothing is written."""
        v = field_visits.c
        try:
            with self.engine.begin() as conn:
                append_audit(conn, audit)  # first: the write lock before any read
                if check is not None:
                    check()
                done = conn.execute(
                    update(field_visits)
                    .where(and_(v.visit_id == visit_id, v.status == was))
                    .values(**values)
                ).rowcount
                if not done:
                    raise _Undone  # rolls the audit entry back
        except _Undone:
            return False
        return True

    def report_visit(
        self,
        visit_id: int,
        values: dict[str, Any],
        audit: AuditEntry,
        contact: VisitContact,
        check: Callable[[], object] | None = None,
    ) -> bool:
        """Move an approved visit to done with its report and record the visit's contact
        attempt (with its own audit entry), in one transaction; False (nothing written) if
        the visit was no longer approved: two reports at once record one contact; and
        AttemptsChanged (nothing written) if the borrower's attempts are no longer those the
        contact was decided on (contact_store.still_as_seen); `check` is asked once the
        write lock is held (the guard and the debt on the visit's day), and if it raises,
        nothing is written."""
        v = field_visits.c
        borrower_id, attempt, recorded_at, decision, contact_audit, seen = contact
        try:
            # SQLite: the write lock from the start, so what is counted stays true (WAL).
            with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
                still_as_seen(conn, borrower_id, seen, attempt.to_phone)
                if check is not None:
                    check()
                append_audit(conn, contact_audit)
                done = conn.execute(
                    update(field_visits)
                    .where(and_(v.visit_id == visit_id, v.status == "approved"))
                    .values(**values)
                ).rowcount
                if not done:
                    raise _Undone  # rolls the audit entry back
                insert_attempt(conn, borrower_id, attempt, recorded_at, decision)
                append_audit(conn, audit)
        except _Undone:
            return False
        return True

    # ── the legal track ──────────────────────────────────────────────────────────────────

    def legal_case(self, loan_id: str) -> dict[str, Any] | None:
        """The case's legal track (its latest state), with its steps."""
        with self.engine.connect() as conn:
            found = conn.execute(select(legal_cases).where(legal_cases.c.loan_id == loan_id))
            row = found.mappings().first()
            if row is None:
                return None
            steps = conn.execute(
                select(legal_steps)
                .where(legal_steps.c.legal_id == row["legal_id"])
                .order_by(legal_steps.c.on, legal_steps.c.step_id)
            ).mappings()
            return {**_plain(row), "steps": [_plain(s) for s in steps]}

    def add_step(
        self,
        loan_id: str,
        step: LegalStep,
        deadline: Deadline | None,
        by: str,
        audit: AuditEntry,
    ) -> None:
        """Record a step, opening the legal case with its first one (a case opened by someone
        else at the same instant is refused, not opened twice); the step must follow those
        on record once the write lock is held, and sets or clears the loan's `legal` flag."""
        try:
            self._add_step(loan_id, step, deadline, by, audit)
        except IntegrityError:
            raise Refusal(
                "the legal track of {loan_id} was opened meanwhile", loan_id=repr(loan_id)
            ) from None

    def _add_step(
        self,
        loan_id: str,
        step: LegalStep,
        deadline: Deadline | None,
        by: str,
        audit: AuditEntry,
    ) -> None:
        with self.engine.begin() as conn:
            append_audit(conn, audit)  # first: the write lock before any read (see _place)
            taken = _steps_taken(conn, loan_id)
            # Checked again under the lock: the service's check read the steps before it.
            check_next([name for name, _ in taken], step, taken[-1][1] if taken else None)
            refer = referral_after([name for name, _ in taken], step)
            legal_id = _legal_id(conn, loan_id, step, by)
            c = legal_cases.c
            changes: dict[str, Any] = {"step": step.step, "costs": c.costs + step.cost}
            if reopens([name for name, _ in taken]):
                # A new round: the earlier round's court and case number are its steps'.
                changes.update(court=None, case_number=None)
            if step.court:
                changes["court"] = step.court
            if step.case_number:
                changes["case_number"] = step.case_number
            if deadline is not None:
                changes["deadline_what"], changes["deadline"] = deadline.what, deadline.day
                changes["deadline_source"] = f"{deadline.rule_id}: {deadline.source}"
            elif step.step in ENDS_DEADLINE:  # enforcement applied for, or the track ended
                changes.update(deadline=None, deadline_what=None, deadline_source=None)
            conn.execute(update(legal_cases).where(c.legal_id == legal_id).values(**changes))
            conn.execute(
                insert(legal_steps).values(
                    legal_id=legal_id,
                    step=step.step,
                    on=step.on,
                    cost=step.cost,
                    court=step.court,
                    case_number=step.case_number,
                    performance_due=step.performance_due,
                    note=step.note or None,
                    by=by,
                )
            )
            f = loan_flags.c
            mine = and_(f.loan_id == loan_id, f.flag == "legal")
            if refer is False:
                conn.execute(delete(loan_flags).where(mine))
            elif refer and conn.execute(select(f.loan_id).where(mine)).first() is None:
                conn.execute(insert(loan_flags).values(
                    loan_id=loan_id, flag="legal", set_on=step.on, set_by=by,
                    reason=f"legal track opened: {step.step}",
                ))  # fmt: skip

    # ── flags ────────────────────────────────────────────────────────────────────────────

    def flags(self, loan_id: str) -> list[dict[str, Any]]:
        """The flags set on a loan, by name."""
        f = loan_flags.c
        query = select(f.flag, f.set_on, f.set_by, f.reason, f.reason_findings, f.set_at)
        with self.engine.connect() as conn:
            found = conn.execute(query.where(f.loan_id == loan_id).order_by(f.flag)).mappings()
            return [_plain(row) for row in found]

    def set_flag(
        self,
        loan_id: str,
        flag: str,
        on: date,
        by: str,
        reason: str,
        audit: AuditEntry,
        at: datetime,
        findings: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Set a flag with its reason and the reason's findings; False if it was set already
        (by someone else at the same instant too: the key refuses the second)."""
        row = {"loan_id": loan_id, "flag": flag, "set_on": on, "set_by": by, "reason": reason,
               "reason_findings": findings, "set_at": at.astimezone(UTC)}  # fmt: skip
        try:
            with self.engine.begin() as conn:
                # Written first: takes the write lock before anything is read (see _place).
                conn.execute(insert(loan_flags).values(**row))
                append_audit(conn, audit)
        except IntegrityError:
            if any(found["flag"] == flag for found in self.flags(loan_id)):
                return False
            raise
        return True

    def clear_flag(self, loan_id: str, flag: str, audit: AuditEntry) -> bool:
        """Clear a flag; False if it was not set."""
        f = loan_flags.c
        with self.engine.begin() as conn:
            done = conn.execute(
                delete(loan_flags).where(and_(f.loan_id == loan_id, f.flag == flag))
            ).rowcount
            if done:
                append_audit(conn, audit)
        return bool(done)


def _steps_taken(conn: Connection, loan_id: str) -> list[tuple[str, date]]:
    """The steps on a loan's legal track, in order: name and day."""
    c, s = legal_cases.c, legal_steps.c
    query = (
        select(s.step, s.on)
        .join(legal_cases, c.legal_id == s.legal_id)
        .where(c.loan_id == loan_id)
        .order_by(s.on, s.step_id)
    )
    return [(row.step, row.on) for row in conn.execute(query)]


def _legal_id(conn: Connection, loan_id: str, step: LegalStep, by: str) -> int:
    """The loan's legal case id, opened now if it has none."""
    found = conn.execute(select(legal_cases.c.legal_id).where(legal_cases.c.loan_id == loan_id))
    legal_id = found.scalar_one_or_none()
    if legal_id is not None:
        return int(legal_id)
    opened = conn.execute(
        insert(legal_cases)
        .values(
            loan_id=loan_id,
            step=step.step,
            costs=0,
            opened_by=by,
            opened_on=step.on,
        )
        .returning(legal_cases.c.legal_id)
    )
    return int(opened.scalar_one())


def _plain(row: Any) -> dict[str, Any]:
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in row.items()}

"""Cases as the desk works them, on SQL: queues within a scope, one case's file, and the
desk's writes, each with its audit entry in the same transaction."""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.casework_tables import (
    agencies,
    assignments,
    notes,
    placements,
    proposals,
    teams,
    users,
)
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.identity_store import agency_of
from arrears.adapters.db.instants import utc
from arrears.adapters.db.scoping import in_scope
from arrears.adapters.db.tables import (
    borrowers,
    cases,
    contact_attempts,
    contacts,
    holds,
    loan_states,
    loans,
    promises,
    runs,
)
from arrears.domain.access import Scope
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.domain.outsourcing import Agency
from arrears.domain.revisions import KINDS, PLAN, SETTLEMENT, Revision
from arrears.services.casework_ports import (
    CaseRecord,
    ExtensionsChanged,
    NotACollectorOfTeam,
    QueueFilter,
    QueueRow,
)


def _overdue() -> Any:
    s = loan_states.c
    return s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees


class SqlCaseworkStore:
    """Implements casework_ports.CaseStore over a SQLAlchemy engine."""

    def __init__(self, engine: Engine, defaults: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.defaults = dict(defaults or {})  # each ladder's default stage (scoping.in_scope)

    def visible(self, scope: Scope, loan_id: str) -> bool:
        """Whether the loan exists and is in the scope."""
        query = select(loans.c.loan_id).where(
            and_(loans.c.loan_id == loan_id, in_scope(scope, loans.c.loan_id, self.defaults))
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def queue(self, scope: Scope, which: QueueFilter, limit: int | None) -> list[QueueRow]:
        """The scope's cases in collection (past due or on a ladder stage) matching the filter."""
        s, c, a, p = loan_states.c, cases.c, assignments.c, placements.c
        broken = (
            select(func.count())
            .where(and_(promises.c.loan_id == loans.c.loan_id, promises.c.status == "broken"))
            .scalar_subquery()
        )
        placed = (
            select(p.agency_id)
            .where(and_(p.loan_id == loans.c.loan_id, p.recalled_on.is_(None)))
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(
                loans.c.loan_id,
                loans.c.borrower_id,
                borrowers.c.name,
                loans.c.product,
                loans.c.currency,
                s.dpd,
                s.bucket,
                func.coalesce(c.stage, s.stage).label("stage"),
                _overdue().label("overdue"),
                broken.label("broken"),
                a.team_id,
                a.collector_id,
                placed.label("agency_id"),
                loans.c.score,
            )
            .join(borrowers, borrowers.c.borrower_id == loans.c.borrower_id)
            .join(loan_states, s.loan_id == loans.c.loan_id)
            .outerjoin(cases, c.loan_id == loans.c.loan_id)
            .outerjoin(assignments, a.loan_id == loans.c.loan_id)
            .where(in_scope(scope, loans.c.loan_id, self.defaults))
            .where(_overdue() > 0)
        )
        if which.stage is not None:
            query = query.where(func.coalesce(c.stage, s.stage) == which.stage)
        if which.bucket is not None:
            query = query.where(s.bucket == which.bucket)
        if which.product is not None:
            query = query.where(loans.c.product == which.product)
        if which.collector_id is not None:
            query = query.where(a.collector_id == which.collector_id)
        if which.unassigned:
            query = query.where(a.collector_id.is_(None))
        query = query.order_by(loans.c.loan_id).limit(limit)
        with self.engine.connect() as conn:
            return [
                QueueRow(
                    r.loan_id,
                    r.borrower_id,
                    r.name,
                    r.product,
                    int(r.dpd),
                    r.bucket,
                    r.stage,
                    int(r.overdue),
                    r.currency,
                    int(r.broken),
                    r.team_id,
                    r.collector_id,
                    r.agency_id,
                    None if r.score is None else int(r.score),
                )
                for r in conn.execute(query)
            ]

    def case(self, loan_id: str) -> CaseRecord | None:
        """Everything about one case, read in one transaction (one consistent picture)."""
        with self.engine.begin() as conn:
            loan = _one(conn, select(loans).where(loans.c.loan_id == loan_id))
            if loan is None:
                return None
            borrower_id = loan["borrower_id"]
            borrower = _one(conn, select(borrowers).where(borrowers.c.borrower_id == borrower_id))
            assert borrower is not None, "a loan's borrower is a foreign key"
            return CaseRecord(
                loan_id=loan_id,
                borrower=borrower,
                loan=loan,
                state=_one(conn, select(loan_states).where(loan_states.c.loan_id == loan_id)),
                case=_one(conn, select(cases).where(cases.c.loan_id == loan_id)),
                assignment=_one(conn, select(assignments).where(assignments.c.loan_id == loan_id)),
                placement=_one(
                    conn,
                    select(placements).where(
                        and_(placements.c.loan_id == loan_id, placements.c.recalled_on.is_(None))
                    ),
                ),
                attempts=_all(
                    conn,
                    select(contact_attempts)
                    .where(contact_attempts.c.borrower_id == borrower_id)
                    .order_by(contact_attempts.c.at.desc())
                    .limit(100),
                ),
                promises=_all(
                    conn,
                    select(promises)
                    .where(promises.c.loan_id == loan_id)
                    .order_by(promises.c.made_on.desc()),
                ),
                notes=_all(
                    conn,
                    select(notes).where(notes.c.loan_id == loan_id).order_by(notes.c.at.desc()),
                ),
                proposals=_all(
                    conn,
                    select(proposals)
                    .where(proposals.c.loan_id == loan_id)
                    .order_by(proposals.c.proposed_at.desc()),
                ),
                holds=_all(
                    conn,
                    select(holds)
                    .where(holds.c.borrower_id == borrower_id)
                    .order_by(holds.c.starts_on.desc()),
                ),
                contacts=_all(
                    conn,
                    select(contacts)
                    .where(contacts.c.borrower_id == borrower_id)
                    .order_by(contacts.c.contact_id),
                ),
            )

    def product_of(self, loan_id: str) -> str | None:
        """A loan's product code."""
        with self.engine.connect() as conn:
            query = select(loans.c.product).where(loans.c.loan_id == loan_id)
            return conn.execute(query).scalar_one_or_none()

    def last_run(self) -> date | None:
        """The as-of date of the latest end-of-day run."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(runs.c.as_of))).scalar()

    def add_note(
        self,
        loan_id: str,
        author: str,
        at: datetime,
        text: str,
        audit: AuditEntry,
        findings: list[dict[str, Any]] | None = None,
    ) -> int:
        """Store a note with the content lint's findings (None: none); its id."""
        row = {"loan_id": loan_id, "author": author, "at": at.astimezone(UTC), "text": text,
               "findings": findings}  # fmt: skip
        with self.engine.begin() as conn:
            query = insert(notes).values(row).returning(notes.c.note_id)
            note_id = int(conn.execute(query).scalar_one())
            append_audit(conn, audit)
        return note_id

    def add_promise(self, promise: Mapping[str, Any], audit: AuditEntry) -> None:
        """Store a promise to pay, open until the run judges it kept or broken."""
        with self.engine.begin() as conn:
            conn.execute(insert(promises).values(**promise, status="open", settled_on=None))
            append_audit(conn, audit)

    def add_proposal(
        self, proposal: Mapping[str, Any], audit: AuditEntry, extended: int | None = None,
        *, alone_since: datetime | None = None,
    ) -> int:  # fmt: skip
        """Store a proposal; its id (with `extended`, only while the case's approved
        extensions are still those; with `alone_since`, only while no proposal on the case
        waits and its proposer made none on it since then: CaseStore.add_proposal)."""
        row = dict(proposal)
        row["proposed_at"] = row["proposed_at"].astimezone(UTC)
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            if alone_since is not None:
                _alone(conn, row["loan_id"], row["proposed_by"], alone_since)
            if extended is not None:
                _still_extended(conn, row["loan_id"], extended)
            query = insert(proposals).values(**row).returning(proposals.c.proposal_id)
            proposal_id = int(conn.execute(query).scalar_one())
            append_audit(conn, audit)
        return proposal_id

    def revisions_by_loan(self) -> dict[str, tuple[Revision, ...]]:
        """Every loan's schedule revisions (approved extensions, plans, settlements), by day."""
        found: dict[str, list[Revision]] = {}
        with self.engine.connect() as conn:
            for loan_id, revision in approved_revisions(conn):
                found.setdefault(loan_id, []).append(revision)
        return {loan_id: tuple(revisions) for loan_id, revisions in found.items()}

    def revisions_of(self, loan_id: str) -> tuple[Revision, ...]:
        """The loan's schedule revisions (its approved extensions), by day."""
        with self.engine.connect() as conn:
            return tuple(revision for _, revision in approved_revisions(conn, [loan_id]))

    def proposal(self, proposal_id: int) -> Mapping[str, Any] | None:
        """One proposal."""
        with self.engine.connect() as conn:
            return _one(conn, select(proposals).where(proposals.c.proposal_id == proposal_id))

    def decide_proposal(
        self,
        proposal_id: int,
        status: str,
        by: str,
        at: datetime,
        note: str,
        audit: AuditEntry,
        extended: int | None = None,
        effective_on: date | None = None,
        note_findings: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Approve or reject a pending proposal, with the approver's note and its findings;
        False if it was no longer pending (with `extended`, only while the case's approved
        extensions are still those; approved, effective from `effective_on`)."""
        q = proposals.c
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            if extended is not None:
                loan_id = conn.execute(select(q.loan_id).where(q.proposal_id == proposal_id))
                _still_extended(conn, loan_id.scalar_one(), extended)
            done = conn.execute(
                update(proposals)
                .where(and_(q.proposal_id == proposal_id, q.status == "pending"))
                .values(
                    status=status,
                    decided_by=by,
                    decided_at=at.astimezone(UTC),
                    decision_note=note,
                    decision_note_findings=note_findings,
                    effective_on=effective_on,
                )
            ).rowcount
            if done:
                append_audit(conn, audit)
        return bool(done)

    def pending_proposals(self, scope: Scope) -> list[Mapping[str, Any]]:
        """Proposals awaiting a decision on the scope's cases, oldest first (with the loan's
        currency: the amounts are in it)."""
        query = (
            select(proposals, loans.c.currency)
            .join(loans, loans.c.loan_id == proposals.c.loan_id)
            .where(
                and_(
                    proposals.c.status == "pending",
                    in_scope(scope, proposals.c.loan_id, self.defaults),
                )
            )
            .order_by(proposals.c.proposed_at)
        )
        with self.engine.connect() as conn:
            return _all(conn, query)

    def assign(
        self,
        loan_id: str,
        team_id: str,
        collector_id: str | None,
        on: date,
        by: str,
        audit: AuditEntry,
    ) -> None:
        """Give a case to a team (and a collector of it), replacing any assignment. The
        collector is checked in the same transaction, their row held (PostgreSQL; SQLite
        holds the database from the first write): a collector moved or disabled meanwhile
        gets no case, or gives it back to the pool when their change commits after."""
        if not self.team_exists(team_id):
            raise Refusal("team {team_id} is not known", team_id=repr(team_id))
        # SQLite: the write lock from the start, so the check below stays true (WAL).
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            if collector_id is not None:
                # Checked before anything is locked here, the collector's row held shared
                # (PostgreSQL): a change to the collector waits for this assignment, then
                # gives the case back to the pool; taken after the delete, the two
                # transactions deadlocked.
                u = users.c
                theirs = select(u.user_id).where(
                    (u.user_id == collector_id) & (u.role == "collector") & u.active
                    & (u.team_id == team_id)
                )  # fmt: skip
                if conn.execute(theirs.with_for_update(read=True)).first() is None:
                    raise NotACollectorOfTeam(
                        "{collector_id} is not an active collector of team {team_id}",
                        collector_id=repr(collector_id),
                        team_id=repr(team_id),
                    )
            conn.execute(delete(assignments).where(assignments.c.loan_id == loan_id))
            conn.execute(
                insert(assignments).values(
                    loan_id=loan_id,
                    team_id=team_id,
                    collector_id=collector_id,
                    assigned_on=on,
                    assigned_by=by,
                )
            )
            append_audit(conn, audit)

    def workloads(self, team_ids: list[str]) -> dict[str, tuple[str, int]]:
        """Each active collector of the teams: (their team, cases assigned to them)."""
        u, a = users.c, assignments.c
        query = (
            select(u.user_id, u.team_id, func.count(a.loan_id))
            .select_from(users)
            .outerjoin(assignments, a.collector_id == u.user_id)
            .where(and_(u.role == "collector", u.active, u.team_id.in_(team_ids)))
            .group_by(u.user_id, u.team_id)
        )
        with self.engine.connect() as conn:
            return {row[0]: (row[1], int(row[2])) for row in conn.execute(query)}

    def team_of(self, user_id: str) -> str | None:
        """The team a user is of (None: none, or no such user)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(users.c.team_id).where(users.c.user_id == user_id))
            return found.scalar_one_or_none()

    def team_exists(self, team_id: str) -> bool:
        """Whether a team of that id exists."""
        with self.engine.connect() as conn:
            found = conn.execute(select(teams.c.team_id).where(teams.c.team_id == team_id))
            return found.first() is not None

    def agency(self, agency_id: str) -> Agency | None:
        """An agency with its commission rate, standing and last evaluation (None: none)."""
        query = select(agencies).where(agencies.c.agency_id == agency_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else agency_of(row)

    def place(
        self,
        loan_id: str,
        agency: Agency,
        on: date,
        balance: int,
        by: str,
        audit: AuditEntry,
    ) -> None:
        """Place a case with an agency at its commission rate (refused if it is placed
        already, or the agency was evaluated or changed since it was judged)."""
        try:
            self._place(loan_id, agency, on, balance, by, audit)
        except IntegrityError:  # placed by someone else at the same instant
            raise Refusal(
                "case {loan_id} was placed with an agency meanwhile", loan_id=repr(loan_id)
            ) from None

    def _place(
        self, loan_id: str, agency: Agency, on: date, balance: int, by: str, audit: AuditEntry
    ) -> None:
        p = placements.c
        agency_id = agency.agency_id
        with self.engine.begin() as conn:
            # Write first: the audit append takes the write lock before anything is read, so
            # two placements at once queue (SQLite cannot upgrade a read to a write safely).
            append_audit(conn, audit)
            # An evaluation appends to the audit log first too, so one recorded meanwhile (a
            # delisting) has committed before this reads the agency, or waits until the
            # placement has: the agency must still be as the service judged it.
            stored = conn.execute(select(agencies).where(agencies.c.agency_id == agency_id))
            row = stored.first()
            if row is None or agency_of(row) != agency:
                raise Refusal(
                    "agency {agency_id} was evaluated or changed meanwhile: place the case again",
                    agency_id=repr(agency_id),
                )
            current = select(p.agency_id).where(and_(p.loan_id == loan_id, p.recalled_on.is_(None)))
            held = conn.execute(current).scalar_one_or_none()
            if held is not None:
                raise Refusal(
                    "case {loan_id} is placed with agency {agency_id} already",
                    loan_id=repr(loan_id),
                    agency_id=repr(held),
                )
            conn.execute(
                insert(placements).values(
                    loan_id=loan_id,
                    agency_id=agency_id,
                    placed_on=on,
                    placed_balance=balance,
                    commission_rate=agency.commission_rate,
                    placed_by=by,
                )
            )

    def recall(self, loan_id: str, on: date, audit: AuditEntry) -> bool:
        """End the case's current placement; False if it was not placed."""
        p = placements.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(placements)
                .where(and_(p.loan_id == loan_id, p.recalled_on.is_(None)))
                .values(recalled_on=on)
            ).rowcount
            if done:
                append_audit(conn, audit)
        return bool(done)


def approved_revisions(
    conn: Connection, loan_ids: Sequence[str] | None = None
) -> list[tuple[str, Revision]]:
    """The schedule revisions of the approved proposals the ledger applies (extensions, plans
    and settlements: domain/revisions.py), of every loan or of `loan_ids`, with their loans,
    by loan and day. A settlement approved before settlements carried a deadline (`by`) is
    recorded only: it waives nothing."""
    q = proposals.c
    query = select(q.loan_id, q.kind, q.effective_on, q.terms).where(
        q.status == "approved", q.kind.in_(KINDS), q.effective_on.is_not(None)
    )
    if loan_ids is not None:
        query = query.where(q.loan_id.in_(list(loan_ids)))
    rows = conn.execute(query.order_by(q.loan_id, q.effective_on, q.proposal_id)).all()
    found = []
    for row in rows:
        terms = row.terms
        if row.kind == SETTLEMENT:
            if not terms.get("by"):
                continue
            revision = Revision(SETTLEMENT, row.effective_on, amount=int(terms["pay"]),
                                deadline=date.fromisoformat(terms["by"]))  # fmt: skip
        elif row.kind == PLAN:
            revision = Revision(PLAN, row.effective_on, months=int(terms["months"]))
        else:
            revision = Revision(row.kind, row.effective_on, int(terms["days"]))
        found.append((row.loan_id, revision))
    return found


def _one(conn: Connection, query: Any) -> dict[str, Any] | None:
    row = conn.execute(query).mappings().first()
    return _plain(row) if row is not None else None


def _all(conn: Connection, query: Any) -> list[Mapping[str, Any]]:
    return [_plain(row) for row in conn.execute(query).mappings()]


def _plain(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as a dict, instants in UTC whatever the database hands back."""
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _alone(conn: Connection, loan_id: str, by: str, since: datetime) -> None:
    """Refuse while a proposal on the loan waits for a decision, or when `by` made one on it
    at or after `since`, the loan held first (PostgreSQL; SQLite holds the write lock): of
    two asked at once, the second is refused."""
    conn.execute(select(loans.c.loan_id).where(loans.c.loan_id == loan_id).with_for_update())
    q = proposals.c
    waiting = select(q.proposal_id).where((q.loan_id == loan_id) & (q.status == "pending"))
    if conn.execute(waiting.limit(1)).first() is not None:
        raise Refusal(
            "a request on loan {loan_id} is waiting for the lender's answer: ask again once "
            "it is answered",
            loan_id=loan_id,
        )
    lately = select(q.proposal_id).where(
        (q.loan_id == loan_id) & (q.proposed_by == by) & (q.proposed_at >= since.astimezone(UTC))
    )
    if conn.execute(lately.limit(1)).first() is not None:
        raise Refusal(
            "you asked for a change to loan {loan_id} today already: ask again tomorrow",
            loan_id=loan_id,
        )


def _still_extended(conn: Connection, loan_id: str, extended: int) -> None:
    """ExtensionsChanged unless the days of the extensions approved on the loan add up to
    `extended`, the loan held first (PostgreSQL; SQLite holds the write lock): a proposal
    checked against its limit meanwhile waits, then counts this one."""
    conn.execute(select(loans.c.loan_id).where(loans.c.loan_id == loan_id).with_for_update())
    q = proposals.c
    approved = select(q.terms).where(
        q.loan_id == loan_id, q.kind == "extension", q.status == "approved"
    )  # fmt: skip
    days = sum(int(terms.get("days", 0)) for terms in conn.execute(approved).scalars())
    if days != extended:
        raise ExtensionsChanged(f"extensions were approved on {loan_id!r} meanwhile")

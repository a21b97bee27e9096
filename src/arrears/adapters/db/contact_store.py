"""The contact history on SQL: the `ContactStore` port over a SQLAlchemy engine."""

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.instants import utc
from arrears.adapters.db.tables import borrowers, contact_attempts, contacts, holds, loans, opt_outs
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import ContactAttempt, ContactDecision, Hold, OptOut
from arrears.domain.content_lint import LintedText
from arrears.domain.errors import Term
from arrears.services.contact_check import PHONE_CHANNELS, reason_document
from arrears.services.content_check import findings_document
from arrears.services.ports import AttemptsChanged, ContactFile, HoldExists, StoredAttempt


class SqlContactStore:
    """Contact attempts, holds and opt-outs in SQLite or PostgreSQL (SQLAlchemy Core)."""

    def __init__(self, engine: Engine) -> None:
        """Use an engine made by `make_engine` on a migrated database."""
        self.engine = engine

    def load_contact_file(self, borrower_id: str) -> ContactFile | None:
        """The borrower, their registered contacts, loans' products and contact history."""
        with self.engine.begin() as conn:  # one transaction: one consistent snapshot
            person = conn.execute(
                select(borrowers.c.phone, borrowers.c.timezone).where(
                    borrowers.c.borrower_id == borrower_id
                )
            ).first()
            if person is None:
                return None
            registered = _contacts(conn, borrower_id)
            return ContactFile(
                borrower_id=borrower_id,
                phone=person.phone,
                timezone=person.timezone,
                products=_products(conn, borrower_id),
                contacts=registered,
                attempts=_attempts(conn, borrower_id),
                holds=_holds(conn, borrower_id),
                opt_outs=_opt_outs(conn, borrower_id),
                shared_dials=_shared_dials(conn, borrower_id, {person.phone, *registered.values()}),
            )

    def holds_of(self, borrower_id: str) -> tuple[Hold, ...]:
        """The borrower's holds, by start day (what pauses their loans' clocks)."""
        with self.engine.connect() as conn:
            return _holds(conn, borrower_id)

    def holds_placed_by(self, borrower_id: str, placed_by: str) -> tuple[Hold, ...]:
        """The borrower's holds placed by `placed_by` (e.g. their own disputes), by start day."""
        h = holds.c
        query = (select(holds).where((h.borrower_id == borrower_id) & (h.placed_by == placed_by))
                 .order_by(h.starts_on))  # fmt: skip
        with self.engine.connect() as conn:
            return tuple(Hold(r.kind, r.starts_on, r.ends_on, r.note or "")
                         for r in conn.execute(query))  # fmt: skip

    def shared_dials(
        self, borrower_id: str, numbers: Collection[str]
    ) -> tuple[ContactAttempt, ...]:
        """Other borrowers' attempts to any of the numbers, oldest first."""
        with self.engine.connect() as conn:
            return _shared_dials(conn, borrower_id, numbers)

    def record_attempt(
        self,
        borrower_id: str,
        attempt: ContactAttempt,
        recorded_at: datetime,
        decision: ContactDecision,
        audit: AuditEntry | None = None,
        seen: ContactFile | None = None,
        note: LintedText | None = None,
    ) -> StoredAttempt:
        """Store an attempt with the decision taken at its instant (instants go in as UTC),
        and the collector's note with its findings, with its audit entry in the same
        transaction when given; with `seen`, only while the attempts it was decided on are
        still all there are (ContactStore.record_attempt)."""
        # SQLite: the write lock from the start, so what is counted stays true (WAL).
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            if seen is not None:
                still_as_seen(conn, borrower_id, seen, attempt.to_phone)
            attempt_id = insert_attempt(conn, borrower_id, attempt, recorded_at, decision, note)
            if audit is not None:
                append_audit(conn, audit)
        return StoredAttempt(attempt_id, borrower_id, attempt, recorded_at, decision, note)

    def record_hold(
        self,
        borrower_id: str,
        hold: Hold,
        at: datetime,
        audit: AuditEntry | None = None,
        *,
        new: bool = False,
        findings: list[dict[str, Any]] | None = None,
        placed_by: str | None = None,
    ) -> None:
        """Store a hold at `at`; the same kind and start day again replaces its end, and its
        note when one is given, with its findings and `at` as the instant it was written
        (with its audit entry in the same transaction when given); `new`: HoldExists if it
        is there already; `placed_by`: who placed a new one when not the desk or the console.
        The same hold placed twice at once: one is placed, the other replaces it (or, `new`,
        is refused), never a key violation."""
        key = (holds.c.borrower_id == borrower_id) & (holds.c.kind == hold.kind)
        key &= holds.c.starts_on == hold.starts_on
        noted = {"note": hold.note, "note_findings": findings, "noted_at": at.astimezone(UTC)}
        # A hold's end changed without a note keeps the note it was placed with (its why),
        # and that note's findings and instant.
        values = {"ends_on": hold.ends_on, **(noted if hold.note else {})}
        row = {"borrower_id": borrower_id, "kind": hold.kind, "starts_on": hold.starts_on,
               "placed_by": placed_by}  # fmt: skip
        for last in (False, True):
            try:
                with self.engine.begin() as conn:
                    if new or conn.execute(update(holds).where(key).values(values)).rowcount == 0:
                        conn.execute(insert(holds).values({**row, **values}))
                    if audit is not None:
                        append_audit(conn, audit)
                return
            except IntegrityError:
                # Placed meanwhile (the key): refused when new, else replaced on the next try.
                if new:
                    raise HoldExists(
                        "a {kind} hold from {starts_on} is already placed: lift it to end it",
                        kind=Term(f"hold:{hold.kind}", hold.kind),
                        starts_on=hold.starts_on.isoformat(),
                    ) from None
                if last:
                    raise

    def record_opt_out(
        self, borrower_id: str, opt_out: OptOut, audit: AuditEntry | None = None
    ) -> None:
        """Store an opt-out of a channel; an earlier one for the channel is kept (with its
        audit entry in the same transaction when given)."""
        with self.engine.begin() as conn:
            if audit is not None:
                append_audit(conn, audit)  # first: the write lock before any read
            store_opt_out(conn, borrower_id, opt_out)


def still_as_seen(
    conn: Connection, borrower_id: str, seen: ContactFile, to_phone: str | None
) -> None:
    """AttemptsChanged unless the borrower's attempts and other borrowers' to the numbers are
    those `seen` holds, the borrower and everyone on those numbers held first (PostgreSQL; in
    id order, so two desks never wait on each other): a desk logging for them meanwhile
    waits, then finds this one's attempt."""
    numbers = seen.numbers() | ({to_phone} if to_phone else set())  # as with_dials_to reads
    b = borrowers.c
    parties = select(b.borrower_id).where(
        (b.borrower_id == borrower_id) | b.phone.in_(sorted(numbers))
    )  # fmt: skip
    conn.execute(parties.order_by(b.borrower_id).with_for_update())
    t = contact_attempts.c
    # Counted as _attempts and _shared_dials read them, not read again row by row.
    own = select(func.count()).where(t.borrower_id == borrower_id)
    theirs = sum(
        conn.execute(select(func.count()).select_from(found.subquery())).scalar_one()
        for found in _dialled_to(borrower_id, numbers)
    )
    now = conn.execute(own).scalar_one(), theirs
    if now != (len(seen.attempts), len(seen.shared_dials)):
        raise AttemptsChanged(
            f"contacts of borrower {borrower_id!r} were logged while this one was decided"
        )


def _products(conn: Connection, borrower_id: str) -> frozenset[str]:
    """The products of the borrower's loans."""
    query = select(loans.c.product).where(loans.c.borrower_id == borrower_id).distinct()
    return frozenset(conn.execute(query).scalars())


def _contacts(conn: Connection, borrower_id: str) -> dict[str, str]:
    """The borrower's registered contacts and their numbers."""
    query = select(contacts.c.contact_id, contacts.c.phone).where(
        contacts.c.borrower_id == borrower_id
    )
    return {row.contact_id: row.phone for row in conn.execute(query)}


def _attempts(conn: Connection, borrower_id: str) -> tuple[ContactAttempt, ...]:
    """The borrower's contact attempts, oldest first."""
    t = contact_attempts.c
    query = (
        select(t.at, t.channel, t.to_phone, t.contact_id, t.outcome)
        .where(t.borrower_id == borrower_id)
        .order_by(t.at, t.attempt_id)
    )
    return tuple(
        ContactAttempt(utc(r.at), r.channel, r.to_phone, r.contact_id, r.outcome)
        for r in conn.execute(query)
    )


def _shared_dials(
    conn: Connection, borrower_id: str, numbers: Collection[str]
) -> tuple[ContactAttempt, ...]:
    """Other borrowers' attempts to any of the numbers (ix_contact_attempts_to_phone_at), oldest
    first."""
    rows = [row for query in _dialled_to(borrower_id, numbers) for row in conn.execute(query)]
    rows.sort(key=lambda r: (utc(r.at), r.attempt_id))
    return tuple(
        ContactAttempt(utc(r.at), r.channel, r.to_phone, r.contact_id, r.outcome) for r in rows
    )


def _dialled_to(borrower_id: str, numbers: Collection[str]) -> list[Select[Any]]:
    """The queries of other borrowers' attempts to any of the numbers: those that name it
    (ix_contact_attempts_to_phone_at), and the calls and SMS on record without a number that
    name no contact, of a borrower whose own number it is: they rang it (contact log reads
    one without --to so; people_index._on_own_number reads a book's so), given that number."""
    if not numbers:
        return []
    t, b, listed = contact_attempts.c, borrowers.c, sorted(numbers)
    named = select(t.attempt_id, t.at, t.channel, t.to_phone, t.contact_id, t.outcome).where(
        t.to_phone.in_(listed), t.borrower_id != borrower_id
    )
    # Found from the borrowers on the numbers (ix_borrowers_phone), then their attempts
    # (ix_contact_attempts_borrower_id_at): "no number" is asked as an empty one, which no
    # index answers, since SQLite's planner took `to_phone IS NULL` on the number's index as
    # a narrow look-up and read every attempt logged without a number (0.8 s a decision on
    # a book of a million borrowers and 300,000 such calls; 0.1 ms so).
    blank = (
        select(t.attempt_id, t.at, t.channel, b.phone.label("to_phone"), t.contact_id, t.outcome)
        .join(borrowers, b.borrower_id == t.borrower_id)
        .where(
            b.phone.in_(listed), b.borrower_id != borrower_id,
            func.coalesce(t.to_phone, "") == "", t.contact_id.is_(None),
            t.channel.in_(sorted(PHONE_CHANNELS)),
        )
    )  # fmt: skip
    return [named, blank]


def store_opt_out(conn: Connection, borrower_id: str, opt_out: OptOut) -> None:
    """Store an opt-out of a channel in the transaction; an earlier one for it is kept."""
    key = (opt_outs.c.borrower_id == borrower_id) & (opt_outs.c.channel == opt_out.channel)
    since = opt_out.since.astimezone(UTC)
    stored = conn.execute(select(opt_outs.c.since).where(key)).scalar_one_or_none()
    if stored is None:
        row = {"borrower_id": borrower_id, "channel": opt_out.channel, "since": since}
        conn.execute(insert(opt_outs).values(row))
    elif since < utc(stored):
        conn.execute(update(opt_outs).where(key).values(since=since))


def _holds(conn: Connection, borrower_id: str) -> tuple[Hold, ...]:
    """The borrower's holds, by start day."""
    query = select(holds).where(holds.c.borrower_id == borrower_id).order_by(holds.c.starts_on)
    return tuple(Hold(r.kind, r.starts_on, r.ends_on, r.note or "") for r in conn.execute(query))


def _opt_outs(conn: Connection, borrower_id: str) -> tuple[OptOut, ...]:
    """The borrower's opt-outs."""
    query = select(opt_outs).where(opt_outs.c.borrower_id == borrower_id)
    return tuple(OptOut(r.channel, utc(r.since)) for r in conn.execute(query))


def insert_attempt(
    conn: Connection,
    borrower_id: str,
    attempt: ContactAttempt,
    recorded_at: datetime,
    decision: ContactDecision,
    note: LintedText | None = None,
) -> int:
    """Insert an attempt with its decision (instants as UTC) and its note with the note's
    findings, in the caller's transaction; its id."""
    values = {
        "borrower_id": borrower_id,
        "contact_id": attempt.contact_id,
        "channel": attempt.channel,
        "to_phone": attempt.to_phone,
        "at": attempt.at.astimezone(UTC),
        "outcome": attempt.outcome,
        "recorded_at": recorded_at.astimezone(UTC),
        "allowed": decision.allowed,
        "reasons": [reason_document(r) for r in decision.reasons],
        "note": note.text if note else None,
        "note_findings": findings_document(note),
    }
    query = insert(contact_attempts).values(values).returning(contact_attempts.c.attempt_id)
    return int(conn.execute(query).scalar_one())

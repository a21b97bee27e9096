"""The audit log on SQL: appends chained under the head row's lock, reads in order."""

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, update

from arrears.adapters.db.casework_tables import audit_head, audit_log
from arrears.adapters.db.instants import utc
from arrears.domain.audit_chain import AuditEntry, ChainedEntry, entry_hash


def append_audit(conn: Connection, entry: AuditEntry) -> ChainedEntry:
    """Chain an entry after the last one, in the caller's transaction (so the entry lands
    with the change it records, or not at all). The head row is updated first: its write lock
    makes concurrent appends wait their turn on SQLite and PostgreSQL alike."""
    head = conn.execute(
        update(audit_head)
        .where(audit_head.c.id == 1)
        .values(last_seq=audit_head.c.last_seq + 1)
        .returning(audit_head.c.last_seq, audit_head.c.last_hash)
    ).one()
    seq, previous = int(head.last_seq), str(head.last_hash)
    digest = entry_hash(seq, entry, previous)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            detail=entry.detail,
            prev_hash=previous,
            hash=digest,
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(last_hash=digest))
    return ChainedEntry(seq, entry, previous, digest)


def hold_audit(conn: Connection) -> None:
    """Take the audit log's write lock (the head row's, which every append takes first) in
    the caller's transaction before reading what its entry will say: a writer that appends
    first and then touches other rows (a placement, an evaluation) then waits its turn
    instead of deadlocking with this one."""
    conn.execute(select(audit_head.c.id).where(audit_head.c.id == 1).with_for_update())


class SqlAuditLog:
    """Reads the audit log (appends go through `append_audit` inside each change)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, entry: AuditEntry) -> ChainedEntry:
        """Append an entry on its own (a view, a log-in: nothing else changes with it)."""
        with self.engine.begin() as conn:
            return append_audit(conn, entry)

    def entries(
        self,
        *,
        subject: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[ChainedEntry]:
        """Entries in sequence order, optionally of one subject or actor, or since an instant
        (newest `limit` when given)."""
        query = select(audit_log)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        if since is not None:
            query = query.where(audit_log.c.at >= since.astimezone(UTC))
        if limit is not None:
            query = query.order_by(audit_log.c.seq.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = [_chained(row) for row in conn.execute(query)]
        return sorted(rows, key=lambda chained: chained.seq)

    def head(self) -> tuple[int, str]:
        """The last sequence number and hash, as the head row keeps them."""
        with self.engine.connect() as conn:
            row = conn.execute(select(audit_head.c.last_seq, audit_head.c.last_hash)).one()
        return int(row.last_seq), str(row.last_hash)

    def chain(self) -> Generator[ChainedEntry, None, None]:
        """Every entry in sequence order, streamed (for verifying and exporting)."""
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=2_000).execute(
                select(audit_log).order_by(audit_log.c.seq)
            )
            # A reader that stops early (a broken entry) closes the server-side cursor too:
            # dropped open, PostgreSQL's warned of it (helper-119).
            try:
                for row in result:
                    yield _chained(row)
            finally:
                result.close()


def _chained(row: Row[Any]) -> ChainedEntry:
    entry = AuditEntry(utc(row.at), row.actor, row.action, row.subject, row.detail)
    return ChainedEntry(int(row.seq), entry, row.prev_hash, row.hash)

"""The borrower portal's links and sessions on SQLite or PostgreSQL."""

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, update

from arrears.adapters.db import tables
from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.instants import utc
from arrears.domain.audit_chain import AuditEntry
from arrears.services.portal import PortalBorrower, PortalSession

LINKS, SESSIONS = tables.portal_links, tables.portal_sessions


class SqlPortalStore:
    """services.portal.PortalStore over the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def borrower(self, borrower_id: str) -> PortalBorrower | None:
        """The borrower, if there is one of that id."""
        b = tables.borrowers.c
        query = select(b.borrower_id, b.name, b.locale).where(b.borrower_id == borrower_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else PortalBorrower(row.borrower_id, row.name, row.locale)

    def loan_ids(self, borrower_id: str) -> list[str]:
        """The borrower's loans, by contract date then id."""
        loans = tables.loans.c
        query = (select(loans.loan_id).where(loans.borrower_id == borrower_id)
                 .order_by(loans.contract_date, loans.loan_id))  # fmt: skip
        with self.engine.connect() as conn:
            return [str(loan) for loan in conn.execute(query).scalars()]

    def add_link(
        self, link_hash: str, borrower_id: str, at: datetime, until: datetime, audit: AuditEntry
    ) -> None:
        """Keep a link with its audit entry, in one transaction; links and sessions over
        by `at` are dropped meanwhile (they open nothing any more)."""
        at = at.astimezone(UTC)
        with self.engine.begin() as conn:
            conn.execute(delete(LINKS).where(LINKS.c.expires_at <= at))
            conn.execute(delete(SESSIONS).where(SESSIONS.c.expires_at <= at))
            conn.execute(insert(LINKS).values(
                link_hash=link_hash, borrower_id=borrower_id, created_at=at,
                expires_at=until.astimezone(UTC), used_at=None,
            ))  # fmt: skip
            append_audit(conn, audit)

    def link_borrower(self, link_hash: str, now: datetime) -> str | None:
        """The borrower of a link that would still open at `now`."""
        query = select(LINKS.c.borrower_id, LINKS.c.expires_at).where(
            (LINKS.c.link_hash == link_hash) & LINKS.c.used_at.is_(None)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return row.borrower_id if row is not None and utc(row.expires_at) > now else None

    def redeem(
        self, link_hash: str, now: datetime, session: PortalSession, token_hash: str,
        audit: AuditEntry,
    ) -> bool:  # fmt: skip
        """Mark the link used and open the session, in one transaction; False (nothing
        written) when it no longer opens: the update's own condition decides, so two
        requests with one link open one session."""
        at = now.astimezone(UTC)
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            used = conn.execute(
                update(LINKS)
                .where((LINKS.c.link_hash == link_hash) & LINKS.c.used_at.is_(None)
                       & (LINKS.c.expires_at > at)
                       & (LINKS.c.borrower_id == session.borrower_id))
                .values(used_at=at)
            )  # fmt: skip
            if used.rowcount != 1:
                return False
            conn.execute(insert(SESSIONS).values(
                token_hash=token_hash, borrower_id=session.borrower_id,
                csrf_token=session.csrf, locale=session.locale, created_at=at,
                expires_at=session.expires_at.astimezone(UTC),
            ))  # fmt: skip
            append_audit(conn, audit)
        return True

    def session(self, token_hash: str, now: datetime) -> PortalSession | None:
        """A session still open at `now`."""
        s = SESSIONS.c
        query = select(s.borrower_id, s.csrf_token, s.locale, s.expires_at).where(
            s.token_hash == token_hash
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or utc(row.expires_at) <= now:
            return None
        return PortalSession(row.borrower_id, row.csrf_token, row.locale, utc(row.expires_at))

    def set_session_locale(self, token_hash: str, locale: str) -> None:
        """Switch a session's language."""
        with self.engine.begin() as conn:
            conn.execute(
                update(SESSIONS).where(SESSIONS.c.token_hash == token_hash).values(locale=locale)
            )

    def close_session(self, token_hash: str, audit: AuditEntry) -> None:
        """End a session, audited."""
        with self.engine.begin() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == token_hash))
            append_audit(conn, audit)

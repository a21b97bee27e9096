"""Borrowers' replies to texts on SQLite or PostgreSQL, with the opt-outs they record."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select, update

from arrears.adapters.db import tables
from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.contact_store import store_opt_out
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.instants import utc
from arrears.domain.contact import OptOut
from arrears.domain.pii import mask_phone
from arrears.domain.replies import OPTED_OUT, READ, TO_READ, Reply, ReplyReading, StoredReply
from arrears.services.replies import Audits, ReplyRefused


class SqlReplyStore:
    """Replies kept, read and the opt-outs they record."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_reply(
        self, reply: Reply, at: datetime, reading: ReplyReading, audits: Audits
    ) -> StoredReply:
        """Keep a reply in one transaction with its audit entries and, read as an opt-out
        with a borrower on its number, their opt-outs of texts from `at` (with none on it,
        it waits for a person like any other)."""
        at = at.astimezone(UTC)
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            borrowers = _on_number(conn, reply.number)
            state = reading.state if borrowers else TO_READ
            rule_id = reading.rule_id if state == OPTED_OUT else None
            row = {"received_at": at, "number": reply.number, "body": reply.text,
                   "borrower_ids": list(borrowers), "state": state, "rule_id": rule_id,
                   "word": reading.word}  # fmt: skip
            reply_id = conn.execute(
                insert(tables.sms_replies).values(row).returning(tables.sms_replies.c.reply_id)
            ).scalar_one()
            # The audit chain before the opt-outs, as every writer of them takes it first.
            for entry in audits(reply_id, borrowers) if state == OPTED_OUT else ():
                append_audit(conn, entry)
            if state == OPTED_OUT:
                for borrower_id in borrowers:
                    store_opt_out(conn, borrower_id, OptOut("sms", at))
        return StoredReply(reply_id, at, reply.number, reply.text, borrowers, state, rule_id,
                           reading.word)  # fmt: skip

    def replies(self, states: Sequence[str], limit: int) -> list[StoredReply]:
        """Replies in `states`, oldest first, at most `limit`."""
        r = tables.sms_replies.c
        query = (select(tables.sms_replies).where(r.state.in_(states))
                 .order_by(r.received_at, r.reply_id).limit(limit))  # fmt: skip
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def read(
        self, reply_id: int, stop: bool, at: datetime, actor: str, audits: Audits
    ) -> StoredReply | None:
        """Mark a reply waiting to be read as read by `actor`, recording the opt-out of texts
        from when it came for every borrower on its number (as it came, and now) when `stop`;
        None when no such reply waits; ReplyRefused, nothing changed, for `stop` when no
        borrower is on its number."""
        r = tables.sms_replies.c
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            found = conn.execute(
                select(tables.sms_replies).where(r.reply_id == reply_id, r.state == TO_READ)
                .with_for_update()
            ).first()  # fmt: skip
            if found is None:
                return None
            kept = _stored(found)
            borrowers = tuple(sorted({*kept.borrower_ids, *_on_number(conn, kept.number)}))
            if stop and not borrowers:
                raise ReplyRefused(
                    "reply {reply_id}: no borrower is on {number}, so no opt-out can be "
                    "recorded; read it without one",
                    reply_id=str(reply_id), number=mask_phone(kept.number),
                )  # fmt: skip
            state = OPTED_OUT if stop else READ
            conn.execute(update(tables.sms_replies).where(r.reply_id == reply_id).values(
                state=state, borrower_ids=list(borrowers), read_by=actor,
                read_at=at.astimezone(UTC),
            ))  # fmt: skip
            for entry in audits(reply_id, borrowers):
                append_audit(conn, entry)
            if stop:
                for borrower_id in borrowers:
                    store_opt_out(conn, borrower_id, OptOut("sms", kept.received_at))
        return StoredReply(kept.reply_id, kept.received_at, kept.number, kept.text, borrowers,
                           state, kept.rule_id, kept.word, actor)  # fmt: skip


def _on_number(conn: Connection, number: str) -> tuple[str, ...]:
    """The borrowers whose number on record it is, in order."""
    b = tables.borrowers.c
    query = select(b.borrower_id).where(b.phone == number).order_by(b.borrower_id)
    return tuple(conn.execute(query).scalars())


def _stored(row: object) -> StoredReply:
    """A stored reply from its row."""
    r = row._mapping  # type: ignore[attr-defined]
    return StoredReply(r["reply_id"], utc(r["received_at"]), r["number"], r["body"],
                       tuple(r["borrower_ids"]), r["state"], r["rule_id"], r["word"],
                       r["read_by"])  # fmt: skip

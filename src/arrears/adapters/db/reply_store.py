"""Borrowers' replies to texts on SQLite or PostgreSQL, with the opt-outs they record."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from arrears.adapters.db import tables
from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.contact_store import store_opt_out
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.instants import utc
from arrears.domain.contact import OptOut
from arrears.domain.pii import mask_phone
from arrears.domain.replies import OPTED_OUT, READ, TO_READ, Reply, ReplyPart, StoredReply
from arrears.services.replies import Audits, OptOutAudits, Reading, ReplyRefused

# The parts of a long reply come within seconds of each other: one still missing this long
# after the first came is not coming.
PART_WAIT = timedelta(hours=1)
# The place of the row that marks a long reply read whole (its parts are 1 to its total).
WHOLE = 0


class SqlReplyStore:
    """Replies kept, read and the opt-outs they record."""

    def __init__(self, engine: Engine, jurisdictions: Mapping[str, str]) -> None:
        """`jurisdictions`: product code -> jurisdiction (whose pack's words read a reply of
        a borrower with a loan of the product first)."""
        self.engine = engine
        self.jurisdictions = jurisdictions

    def record_reply(
        self, reply: Reply, at: datetime, read: Reading, audits: OptOutAudits
    ) -> StoredReply | None:
        """Keep a reply, read by `read`, in one transaction with its audit entries and, read
        as an opt-out with a borrower on its number, their opt-outs of texts from `at` (with
        none on it, it waits for a person like any other); a part of a long reply is kept
        aside until its last part comes (None meanwhile), then the reply is read whole."""
        at = at.astimezone(UTC)
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            if reply.part is not None:
                whole = _with_part(conn, reply, reply.part, at)
                if whole is None:
                    return None
                reply = whole
            return self._keep(conn, reply, at, read, audits, whole=True)

    def sweep(self, now: datetime, read: Reading, audits: OptOutAudits) -> list[StoredReply]:
        """Keep each long reply a part of which is still missing PART_WAIT after its first
        came, as far as it came ("…" for each part missing), for a person to read; each in
        a transaction of its own, looked at again under its lock (another reader may have
        had its last part, or swept it, meanwhile)."""
        since = (now - PART_WAIT).astimezone(UTC)
        kept: list[StoredReply] = []
        for number, reference, total in self._stale(since):
            with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
                _lock_reply(conn, number, reference)  # a late part waits, then stands alone
                parts = _parts(conn, number, reference, total)
                if not parts or min(at for _, at in parts.values()) >= since:
                    continue  # read whole, or swept, by another reader meanwhile
                _drop_parts(conn, number, reference, total)
                if WHOLE in parts:
                    continue  # the mark of a reply read whole: its hour is over
                said = "".join(parts[seq][0] if seq in parts else "…"
                               for seq in range(1, total + 1))  # fmt: skip
                came = min(at for _, at in parts.values())
                kept.append(self._keep(conn, Reply(number, said), came, read, audits,
                                       whole=False))  # fmt: skip
        return kept

    def _stale(self, since: datetime) -> list[tuple[str, int, int]]:
        """The long replies kept aside whose first part came before `since`, in order."""
        p = tables.sms_reply_parts.c
        query = (select(p.number, p.reference, p.total).group_by(p.number, p.reference, p.total)
                 .having(func.min(p.received_at) < since)
                 .order_by(p.number, p.reference, p.total))  # fmt: skip
        with self.engine.connect() as conn:
            return [(str(n), int(r), int(t)) for n, r, t in conn.execute(query)]

    def _keep(
        self,
        conn: Connection,
        reply: Reply,
        at: datetime,
        read: Reading,
        audits: OptOutAudits,
        whole: bool,
    ) -> StoredReply:
        """Keep a whole reply (or what came of one) in the transaction."""
        borrowers = _on_number(conn, reply.number)
        reading = read(reply.text, self._jurisdictions_of(conn, borrowers), whole)
        state = reading.state if borrowers else TO_READ
        rule_id = reading.rule_id if state == OPTED_OUT else None
        row = {"received_at": at, "number": reply.number, "body": reply.text,
               "borrower_ids": list(borrowers), "state": state, "rule_id": rule_id,
               "word": reading.word}  # fmt: skip
        reply_id = conn.execute(
            insert(tables.sms_replies).values(row).returning(tables.sms_replies.c.reply_id)
        ).scalar_one()
        if state == OPTED_OUT:
            # The audit chain before the opt-outs, as every writer of them takes it first.
            for entry in audits(reply_id, borrowers, reading, at):
                append_audit(conn, entry)
            for borrower_id in borrowers:
                store_opt_out(conn, borrower_id, OptOut("sms", at))
        return StoredReply(reply_id, at, reply.number, reply.text, borrowers, state, rule_id,
                           reading.word)  # fmt: skip

    def jurisdictions_by_borrower(self, borrowers: Sequence[str]) -> dict[str, frozenset[str]]:
        """Each borrower's loans' products' jurisdictions (a borrower with none left out)."""
        found: dict[str, set[str]] = {}
        query = select(tables.loans.c.borrower_id, tables.loans.c.product).distinct().where(
            tables.loans.c.borrower_id.in_(borrowers))  # fmt: skip
        with self.engine.connect() as conn:
            for borrower_id, product in conn.execute(query):
                if product in self.jurisdictions:
                    found.setdefault(borrower_id, set()).add(self.jurisdictions[product])
        return {b: frozenset(js) for b, js in found.items()}

    def _jurisdictions_of(self, conn: Connection, borrowers: tuple[str, ...]) -> frozenset[str]:
        """The jurisdictions of the borrowers' loans' products."""
        if not borrowers:
            return frozenset()
        query = select(tables.loans.c.product).distinct().where(
            tables.loans.c.borrower_id.in_(borrowers))  # fmt: skip
        return frozenset(self.jurisdictions[p] for p in conn.execute(query).scalars()
                         if p in self.jurisdictions)  # fmt: skip

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


def _with_part(conn: Connection, reply: Reply, part: ReplyPart, at: datetime) -> Reply | None:
    """Keep a part of a long reply aside (once: an SMSC may deliver it again); the reply
    whole once its last part is in, its parts let go and the mark that it was read whole
    (its text) kept for PART_WAIT: a part of it delivered again meanwhile is dropped, one of
    another reply reusing the reference starts it anew. Else None."""
    _lock_reply(conn, reply.number, part.reference)
    parts = _parts(conn, reply.number, part.reference, part.total)
    if WHOLE in parts:
        if reply.text in parts[WHOLE][0]:
            return None  # a part of a reply read whole already, delivered again
        # Another long reply that reuses the reference (a phone's 8-bit one comes round).
        _drop_parts(conn, reply.number, part.reference, part.total)
        parts = {}
    if part.seq not in parts:
        conn.execute(insert(tables.sms_reply_parts).values(
            number=reply.number, reference=part.reference, total=part.total, seq=part.seq,
            body=reply.text, received_at=at,
        ))  # fmt: skip
        parts[part.seq] = (reply.text, at)
    if len(parts) < part.total:
        return None
    _drop_parts(conn, reply.number, part.reference, part.total)
    said = "".join(parts[seq][0] for seq in range(1, part.total + 1))
    conn.execute(insert(tables.sms_reply_parts).values(
        number=reply.number, reference=part.reference, total=part.total, seq=WHOLE, body=said,
        received_at=at,
    ))  # fmt: skip
    return Reply(reply.number, said)


def _parts(
    conn: Connection, number: str, reference: int, total: int
) -> dict[int, tuple[str, datetime]]:
    """The parts of a long reply kept aside, by their place in it: what each says, when it
    came (place WHOLE: the mark that the reply was read whole, its text, and when)."""
    p = tables.sms_reply_parts.c
    query = select(p.seq, p.body, p.received_at).where(
        p.number == number, p.reference == reference, p.total == total)  # fmt: skip
    return {int(seq): (body, utc(at)) for seq, body, at in conn.execute(query)}


def _drop_parts(conn: Connection, number: str, reference: int, total: int) -> None:
    """Let a long reply's parts go (it is kept whole, or as far as it came)."""
    p = tables.sms_reply_parts.c
    conn.execute(delete(tables.sms_reply_parts).where(
        p.number == number, p.reference == reference, p.total == total))  # fmt: skip


def _lock_reply(conn: Connection, number: str, reference: int) -> None:
    """On PostgreSQL, hold a long reply's lock to the transaction's end: two readers given
    its last two parts at once take turns, so one of them sees it whole. SQLite's writers
    take turns already (WRITE_FIRST)."""
    if conn.dialect.name == "postgresql":
        key = f"reply:{number}:{reference}"
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})

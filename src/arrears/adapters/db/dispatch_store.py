"""The outbox's deliveries on SQLite or PostgreSQL: rows due, the claim that makes one sender
send each once, the figures a message names, and how each ended."""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, delete, exists, insert, or_, select, text, update

from arrears.adapters.db import tables
from arrears.adapters.db.audit_store import append_audit
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.instants import utc
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.receipts import DELIVERED, Receipt, text_outcome
from arrears.services.dispatch_ports import DueMessage, Finished, MessageFacts

# A receipt belongs to a part claimed at most this long before it: SMSCs keep a text for
# delivery 2 or 3 days by default (its validity period); an older part awaiting one is not
# what an SMSC that restarted its ids means.
RECEIPT_WINDOW = timedelta(days=3)
# Receipts kept apart (no part on record) for this long, then let go: a sender records its
# parts seconds after the SMSC took them.
UNMATCHED_KEPT = timedelta(days=7)
# The reader's and the sender's clocks may differ a little (two hosts).
CLOCK_SLACK = timedelta(minutes=5)
# How a delivery that ends for good leaves its outbox row: (status, outcome).
_OUTBOX_END = {
    "sent": ("done", "sent"),
    "failed": ("failed", "failed"),
    "cancelled": ("cancelled", None),
}


class SqlDispatchStore:
    """Deliveries of the outbox's texts and e-mails."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def due(self, now: datetime, channels: tuple[str, ...], margin: timedelta) -> list[DueMessage]:
        """Rows of `channels` whose window holds `now` and lasts `margin` longer: planned and
        unclaimed, or to be tried again by now."""
        o, d = tables.outbox.c, tables.deliveries.c
        at = now.astimezone(UTC)
        fresh = and_(o.status == "planned", d.action_key.is_(None))
        again = and_(o.status == "sending", d.state == "retry", d.next_try_at <= at)
        query = (
            select(o.action_key, o.loan_id, o.borrower_id, o.channel, o.template, o.planned_for,
                   o.window_end, d.tries)
            .select_from(tables.outbox.outerjoin(tables.deliveries))
            .where(o.channel.in_(channels), o.window_start <= at, o.window_end > at + margin,
                   or_(fresh, again))
            .order_by(o.window_end, o.action_key)
        )  # fmt: skip
        with self.engine.connect() as conn:
            return [
                DueMessage(*row[:6], utc(row.window_end), row.tries or 0, row.tries is not None)
                for row in conn.execute(query)
            ]

    def in_doubt(self, claimed_before: datetime) -> list[str]:
        """Keys a sender claimed before `claimed_before` and never said how it ended."""
        d = tables.deliveries.c
        query = (
            select(d.action_key)
            .where(d.state == "sending", d.claimed_at < claimed_before.astimezone(UTC))
            .order_by(d.action_key)
        )
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    def expire(self, now: datetime) -> list[tuple[str, Finished]]:
        """Fail the rows waiting for another try whose window has ended by `now`."""
        o, d = tables.outbox.c, tables.deliveries.c
        at = now.astimezone(UTC)
        ended = (
            select(d.action_key, d.tries, d.address)
            .join(tables.outbox, o.action_key == d.action_key)
            .where(d.state == "retry", o.window_end <= at)
        )
        done: list[tuple[str, Finished]] = []
        with self.engine.connect() as conn:
            waiting = conn.execute(ended).all()
        for key, tries, address in waiting:
            finished = Finished(
                "failed",
                tries,
                now,
                address,
                detail="its window ended before it could be tried again",
            )
            with self.engine.begin() as conn:  # conditional: a sender may have taken it
                if self._finish(conn, key, finished, was="retry"):
                    done.append((key, finished))
        return done

    def claim(self, item: DueMessage, now: datetime) -> bool:
        """Take the row: the outbox row moves from planned to sending with a delivery row
        made (its key unique), or a retry's delivery moves back to sending; False when
        another sender or a desk got there first."""
        o, d = tables.outbox.c, tables.deliveries.c
        at = now.astimezone(UTC)
        with self.engine.begin() as conn:
            if not item.claimed:
                taken = conn.execute(
                    update(tables.outbox)
                    .where(and_(o.action_key == item.action_key, o.status == "planned"))
                    .values(status="sending")
                ).rowcount
                if taken != 1:
                    return False
                conn.execute(insert(tables.deliveries).values(
                    action_key=item.action_key, channel=item.channel, state="sending", tries=0,
                    claimed_at=at,
                ))  # fmt: skip
                return True
            again = conn.execute(
                update(tables.deliveries)
                .where(d.action_key == item.action_key, d.state == "retry", d.tries == item.tries)
                .values(state="sending", claimed_at=at)
            ).rowcount
            return bool(again == 1)

    def facts(self, loan_id: str, planned_for: date) -> MessageFacts | None:
        """The loan's figures at its last run, its borrower's name and e-mail, and whether a
        payment dated by the plan's day is on record that the run did not apply (it left no
        allocation: it came in after the run)."""
        s, loans, b, p, a = (tables.loan_states.c, tables.loans.c, tables.borrowers.c,
                             tables.payments.c, tables.allocations.c)  # fmt: skip
        applied = exists().where(and_(a.loan_id == loan_id, a.payment_id == p.payment_id))
        paid = exists().where(and_(p.loan_id == loan_id, p.paid_on <= planned_for, ~applied))
        overdue = s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees
        query = (
            select(b.name, b.email, loans.currency, s.as_of, s.dpd, overdue,
                   s.outstanding_principal, paid)
            .select_from(tables.loan_states.join(tables.loans).join(tables.borrowers))
            .where(s.loan_id == loan_id)
        )  # fmt: skip
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        name, email, currency, as_of, dpd, owed, outstanding, paid_since = row
        return MessageFacts(name, email, currency, as_of, int(dpd), int(owed), int(outstanding),
                            bool(paid_since))  # fmt: skip

    def finish(self, action_key: str, finished: Finished) -> None:
        """Record the delivery's end this time, and the outbox row's when it ends for good."""
        with self.engine.begin() as conn:
            self._finish(conn, action_key, finished, was="sending")

    @staticmethod
    def _finish(conn: Connection, action_key: str, finished: Finished, was: str) -> bool:
        """Finish a delivery still in state `was`; False when it is no longer."""
        d = tables.deliveries.c
        at = finished.at.astimezone(UTC)
        ended = finished.state != "retry"
        changed = conn.execute(
            update(tables.deliveries).where(d.action_key == action_key, d.state == was).values(
                state=finished.state, tries=finished.tries, address=finished.address,
                detail=finished.detail, message_ids=list(finished.message_ids) or None,
                reasons=finished.reasons or None, finished_at=at if ended else None,
                next_try_at=finished.next_try_at.astimezone(UTC)
                if finished.next_try_at else None,
            )
        ).rowcount  # fmt: skip
        if changed != 1:
            return False
        channel, claimed = conn.execute(
            select(d.channel, d.claimed_at).where(d.action_key == action_key)
        ).one()
        sms_sent = finished.state == "sent" and channel == "sms" and finished.message_ids
        if sms_sent:  # each part's receipt is awaited
            _lock_ids(conn, finished.message_ids)  # a reader of their receipts waits for this
            conn.execute(insert(tables.delivery_parts), [
                {"action_key": action_key, "part": part, "message_id": message_id}
                for part, message_id in enumerate(finished.message_ids, start=1)
            ])  # fmt: skip
        if ended:
            status, outcome = _OUTBOX_END[finished.state]
            conn.execute(
                update(tables.outbox)
                .where(tables.outbox.c.action_key == action_key)
                .values(status=status, outcome=outcome)
            )
        if sms_sent:
            _early_receipts(conn, action_key, list(finished.message_ids), utc(claimed))
        return True

    def settle(
        self,
        action_key: str,
        went: bool,
        claimed_before: datetime,
        entry: Callable[[str], AuditEntry],
    ) -> tuple[str, str, datetime] | None:
        """End a row in doubt as sent or not, with its audit entry, or None when it is not
        in doubt (the update is conditional: a sender finishing it meanwhile wins)."""
        d, o = tables.deliveries.c, tables.outbox.c
        with self.engine.begin() as conn:
            row = conn.execute(
                select(o.loan_id, o.borrower_id, d.channel, d.claimed_at)
                .join(tables.outbox, o.action_key == d.action_key)
                .where(d.action_key == action_key)
            ).first()  # fmt: skip
            if row is None:
                return None
            audit = entry(row.loan_id)
            state, status, outcome = ("sent", "done", "sent") if went else (
                "cancelled", "cancelled", None)  # fmt: skip
            settled = conn.execute(
                update(tables.deliveries)
                .where(d.action_key == action_key, d.state == "sending",
                       d.claimed_at < claimed_before.astimezone(UTC))
                .values(state=state, finished_at=audit.at,
                        detail="settled by hand: " + ("it went" if went else "it did not go"))
            ).rowcount  # fmt: skip
            if settled != 1:
                return None
            conn.execute(update(tables.outbox).where(o.action_key == action_key)
                         .values(status=status, outcome=outcome))  # fmt: skip
            append_audit(conn, audit)
        return row.borrower_id, row.channel, utc(row.claimed_at)

    def record_receipt(self, receipt: Receipt, at: datetime) -> str:
        """Keep a receipt in its own transaction (done before the SMSC is told it came): with
        the newest part still awaiting one of its id, moving the text once its parts say
        delivered or undelivered; kept apart when no such part is on record yet (its text's
        sender may not have finished: `finish` reads it then). What it did: the part's new
        state, `pending` (not final), or `unmatched`."""
        if receipt.state is None:
            return "pending"
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            _lock_ids(conn, (receipt.message_id,))  # a sender recording the part goes first
            conn.execute(delete(tables.unmatched_receipts).where(
                tables.unmatched_receipts.c.received_at < (at - UNMATCHED_KEPT).astimezone(UTC)
            ))  # fmt: skip
            found = _awaiting_part(conn, receipt, at)
            if found is None:
                conn.execute(insert(tables.unmatched_receipts).values(
                    message_id=receipt.message_id, state=receipt.state, said=receipt.said,
                    received_at=at.astimezone(UTC),
                ))  # fmt: skip
                return "unmatched"
            _take_receipt(conn, *found, receipt.state, receipt.said, at)
        return receipt.state


def _lock_ids(conn: Connection, ids: Sequence[str]) -> None:
    """On PostgreSQL, hold each message id's lock to the transaction's end (in one order): a
    sender recording its parts and a reader of their receipts take turns. SQLite's writers
    take turns already (WRITE_FIRST)."""
    if conn.dialect.name == "postgresql":
        for message_id in sorted(set(ids)):
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:id))"), {"id": message_id})


def _awaiting_part(conn: Connection, receipt: Receipt, at: datetime) -> tuple[str, int] | None:
    """The newest part (by its text's claim) of the receipt's id still awaiting one, sent to
    the number the receipt is from (when it names one) within RECEIPT_WINDOW before it: an
    SMSC that restarts its ids gives an old one again."""
    p, d = tables.delivery_parts.c, tables.deliveries.c
    query = (
        select(p.action_key, p.part)
        .join(tables.deliveries, d.action_key == p.action_key)
        .where(p.message_id == receipt.message_id, p.state.is_(None),
               d.claimed_at >= (at - RECEIPT_WINDOW).astimezone(UTC))
        .order_by(d.claimed_at.desc()).limit(1)
    )  # fmt: skip
    if receipt.address:
        query = query.where(d.address == "+" + receipt.address.lstrip("+"))
    row = conn.execute(query).first()
    return None if row is None else (row.action_key, row.part)


def _take_receipt(
    conn: Connection, key: str, part: int, state: str, said: str, at: datetime
) -> None:
    """Keep a part's receipt and end its text once its parts say so, the text's delivery row
    locked first (two readers at once each see the other's part)."""
    p, d, o = tables.delivery_parts.c, tables.deliveries.c, tables.outbox.c
    conn.execute(select(d.state).where(d.action_key == key).with_for_update())
    took = conn.execute(
        update(tables.delivery_parts)
        .where(p.action_key == key, p.part == part, p.state.is_(None))
        .values(state=state, said=said, received_at=at.astimezone(UTC))
    ).rowcount  # fmt: skip
    if took != 1:
        return  # it had its receipt already (sent twice by the SMSC)
    parts = conn.execute(select(p.state).where(p.action_key == key)).scalars().all()
    outcome = text_outcome(parts)
    if outcome is None:
        return
    words = conn.execute(
        select(p.said).where(p.action_key == key, p.state == outcome).order_by(p.part)
    ).scalars().all()  # fmt: skip
    ended = conn.execute(
        update(tables.deliveries).where(d.action_key == key, d.state == "sent")
        .values(state=outcome, detail="; ".join(words))
    ).rowcount  # fmt: skip
    if ended == 1:
        status, result = ("done", "delivered") if outcome == DELIVERED else ("failed", "failed")
        conn.execute(
            update(tables.outbox).where(o.action_key == key).values(status=status, outcome=result)
        )


def _early_receipts(conn: Connection, key: str, ids: Sequence[str], since: datetime) -> None:
    """Receipts kept apart that came for these parts before they were on record (since the
    text was claimed), taken now."""
    u = tables.unmatched_receipts.c
    early = conn.execute(
        select(u.receipt_id, u.message_id, u.state, u.said, u.received_at)
        .where(u.message_id.in_(ids), u.received_at >= (since - CLOCK_SLACK).astimezone(UTC))
        .order_by(u.receipt_id)
    ).all()  # fmt: skip
    for receipt_id, message_id, state, said, received_at in early:
        part = ids.index(message_id) + 1
        _take_receipt(conn, key, part, state, said, utc(received_at))
        conn.execute(delete(tables.unmatched_receipts).where(u.receipt_id == receipt_id))

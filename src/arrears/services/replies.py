"""Borrowers' replies to texts (docs/CHANNELS.md, "Replies"): each kept as it comes, an
opt-out word alone recording an opt-out of texts for every borrower on the number at once,
the rest waiting for a person, who records the opt-out or not; all audited."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from arrears.domain.access import Permission, Principal, require
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.domain.replies import OPTED_OUT, Reply, ReplyReading, ReplyRule, StoredReply
from arrears.domain.rule_pack import RulePack
from arrears.domain.staff import CONSOLE

# Audit entries for a reply once stored: given its id and the borrowers on its number.
Audits = Callable[[int, tuple[str, ...]], list[AuditEntry]]


class ReplyRefused(Refusal):
    """A reply cannot be read as asked (none such, read already, or no one to opt out)."""


class ReplyStore(Protocol):
    """Where replies are kept, with the opt-outs they record."""

    def record_reply(
        self, reply: Reply, at: datetime, reading: ReplyReading, audits: Audits
    ) -> StoredReply:
        """Keep a reply in one transaction with its audit entries and, read as an opt-out
        with a borrower on its number, their opt-outs of texts from `at`."""
        ...

    def replies(self, states: Sequence[str], limit: int) -> list[StoredReply]:
        """Replies in `states`, oldest first, at most `limit`."""
        ...

    def read(
        self, reply_id: int, stop: bool, at: datetime, actor: str, audits: Audits
    ) -> StoredReply | None:
        """Mark a reply waiting to be read as read by `actor`, recording the opt-out of texts
        from when it came for every borrower on its number (as it came, and now) when `stop`;
        None when no such reply waits; ReplyRefused, nothing changed, for `stop` when no
        borrower is on its number."""
        ...


@dataclass(frozen=True)
class ReplyTaking:
    """Where replies read with the receipts are kept, and the rules they are read by."""

    store: ReplyStore
    rules: tuple[ReplyRule, ...]


def reply_rules(packs: Iterable[RulePack]) -> tuple[ReplyRule, ...]:
    """Every pack's reply rule: a reply is read by all of them, as stopping texts to a
    number whose holder asked is lawful anywhere."""
    return tuple(pack.replies for pack in packs if pack.replies is not None)


def take_reply(
    store: ReplyStore, rules: Sequence[ReplyRule], reading: ReplyReading, reply: Reply, at: datetime
) -> StoredReply:
    """Keep a reply read as `reading` (domain.replies.read_reply under `rules`), with the
    opt-outs it records, audited as the console's."""
    at = at.astimezone(UTC)
    source = {rule.rule_id: rule.source for rule in rules}

    def audits(reply_id: int, borrowers: tuple[str, ...]) -> list[AuditEntry]:
        if reading.state != OPTED_OUT:
            return []
        detail = {"channel": "sms", "since": at.isoformat(), "reply": reply_id,
                  "rule": reading.rule_id, "word": reading.word,
                  "source": source.get(reading.rule_id or "")}  # fmt: skip
        return [AuditEntry(at, CONSOLE, "contact.opt_out", f"borrower:{b}", detail)
                for b in borrowers]  # fmt: skip

    return store.record_reply(reply, at, reading, audits)


def read_by_hand(
    store: ReplyStore, reply_id: int, stop: bool, actor: str, now: datetime
) -> StoredReply:
    """A person's reading of a reply waiting for one (audited `reply.read`): it asks to stop
    texts (`stop`: the borrowers on the number opted out of texts from when it came) or not.
    ReplyRefused when no such reply waits."""
    now = now.astimezone(UTC)

    def audits(reply_id: int, borrowers: tuple[str, ...]) -> list[AuditEntry]:
        read = AuditEntry(now, actor, "reply.read", f"reply:{reply_id}",
                          {"stop": stop, "borrowers": list(borrowers)})  # fmt: skip
        if not stop:
            return [read]
        return [read, *(AuditEntry(now, actor, "contact.opt_out", f"borrower:{b}",
                                   {"channel": "sms", "reply": reply_id})
                        for b in borrowers)]  # fmt: skip

    done = store.read(reply_id, stop, now, actor, audits)
    if done is None:
        raise ReplyRefused("reply {reply_id}: no such reply waiting to be read",
                           reply_id=str(reply_id))  # fmt: skip
    return done


def replies_for(
    store: ReplyStore, who: Principal, states: Sequence[str], limit: int
) -> list[StoredReply]:
    """Replies in `states`, oldest first, for a person who may read them."""
    require(who, Permission.REPLIES)
    return store.replies(states, limit)


def read_as(
    store: ReplyStore, who: Principal, reply_id: int, stop: bool, now: datetime
) -> StoredReply:
    """A signed-in person's reading of a reply (read_by_hand, as them)."""
    require(who, Permission.REPLIES)
    return read_by_hand(store, reply_id, stop, who.user_id, now)

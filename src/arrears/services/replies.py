"""Borrowers' replies to texts (docs/CHANNELS.md, "Replies"): each kept as it comes (a long
one once whole), one that asks to stop in a pack's words recording an opt-out of texts for
every borrower on the number at once, the rest waiting for a person, who records the
opt-out or not; all audited."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from arrears.domain.access import Permission, Principal, require
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.domain.replies import (
    OPTED_OUT,
    TO_READ,
    Reply,
    ReplyReading,
    ReplyRule,
    StoredReply,
    honour_by,
    read_reply,
)
from arrears.domain.rule_pack import RulePack
from arrears.domain.staff import CONSOLE
from arrears.domain.terms import CalendarSource

# How a reply's text reads: given the jurisdictions of the loans of the borrowers on its
# number (their packs' words read it first) and whether it is whole (a long one missing a
# part is not).
Reading = Callable[[str, frozenset[str], bool], ReplyReading]
# Audit entries of the opt-outs a reply kept records: its id, the borrowers on its number,
# how it read, when it came.
OptOutAudits = Callable[[int, tuple[str, ...], ReplyReading, datetime], list[AuditEntry]]
# Audit entries of a person's reading of a reply: its id and the borrowers on its number.
Audits = Callable[[int, tuple[str, ...]], list[AuditEntry]]


class ReplyRefused(Refusal):
    """A reply cannot be read as asked (none such, read already, or no one to opt out)."""


class ReplyStore(Protocol):
    """Where replies are kept, with the opt-outs they record."""

    def record_reply(
        self, reply: Reply, at: datetime, read: Reading, audits: OptOutAudits
    ) -> StoredReply | None:
        """Keep a reply, read by `read`, in one transaction with its audit entries and, read
        as an opt-out with a borrower on its number, their opt-outs of texts from `at`; a
        part of a long reply is kept aside until its last part comes (None meanwhile)."""
        ...

    def sweep(self, now: datetime, read: Reading, audits: OptOutAudits) -> list[StoredReply]:
        """Keep each long reply a part of which is still missing long after its first came,
        as far as it came, for a person to read (never an opt-out by its words alone)."""
        ...

    def replies(self, states: Sequence[str], limit: int) -> list[StoredReply]:
        """Replies in `states`, oldest first, at most `limit`."""
        ...

    def jurisdictions_by_borrower(self, borrowers: Sequence[str]) -> dict[str, frozenset[str]]:
        """Each borrower's loans' products' jurisdictions (a borrower with none left out)."""
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

    def reading(self, text: str, jurisdictions: frozenset[str], whole: bool) -> ReplyReading:
        """The reply's reading, the rules of the borrowers' own packs first (the one whose
        words read it is the one cited), then the others: stopping texts to a number whose
        holder asked is lawful anywhere."""
        own = [rule for rule in self.rules if rule.jurisdiction in jurisdictions]
        rest = [rule for rule in self.rules if rule.jurisdiction not in jurisdictions]
        return read_reply(text, (*own, *rest), whole)

    def audits(
        self, reply_id: int, borrowers: tuple[str, ...], reading: ReplyReading, at: datetime
    ) -> list[AuditEntry]:
        """The console's `contact.opt_out` a borrower, for a reply that opted them out."""
        if reading.state != OPTED_OUT:
            return []
        source = {rule.rule_id: rule.source for rule in self.rules}
        at = at.astimezone(UTC)
        detail = {"channel": "sms", "since": at.isoformat(), "reply": reply_id,
                  "rule": reading.rule_id, "word": reading.word,
                  "source": source.get(reading.rule_id or "")}  # fmt: skip
        return [AuditEntry(at, CONSOLE, "contact.opt_out", f"borrower:{b}", detail)
                for b in borrowers]  # fmt: skip

    def take(self, reply: Reply, at: datetime) -> StoredReply | None:
        """Keep a reply as it comes (None: a part of a long one, kept aside for the rest)."""
        return self.store.record_reply(reply, at.astimezone(UTC), self.reading, self.audits)

    def sweep(self, now: datetime) -> list[StoredReply]:
        """Keep the long replies whose missing parts are not coming, for a person."""
        return self.store.sweep(now.astimezone(UTC), self.reading, self.audits)


def reply_rules(packs: Iterable[RulePack]) -> tuple[ReplyRule, ...]:
    """Every pack's reply rule."""
    return tuple(pack.replies for pack in packs if pack.replies is not None)


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


def honour_dates(
    store: ReplyStore,
    rules: Sequence[ReplyRule],
    calendar_for: CalendarSource,
    replies: Sequence[StoredReply],
) -> dict[int, date]:
    """For each reply waiting to be read whose borrowers' packs set a time to honour a
    request to stop (us: ten business days, 47 CFR 64.1200(a)(11)), the last day to honour
    it by, should it be one: the earliest of their packs' (a reply with no borrower on its
    number has none)."""
    timed = [rule for rule in rules if rule.honour_days is not None]
    waiting = [r for r in replies if r.state == TO_READ and r.borrower_ids]
    if not timed or not waiting:
        return {}
    by_borrower = store.jurisdictions_by_borrower(
        sorted({b for reply in waiting for b in reply.borrower_ids})
    )  # one read for all
    found: dict[int, date] = {}
    for reply in waiting:
        jurisdictions = frozenset().union(*(by_borrower.get(b, ()) for b in reply.borrower_ids))
        days = []
        for rule in timed:
            if rule.jurisdiction in jurisdictions and rule.honour_days is not None:
                came = reply.received_at.astimezone(ZoneInfo(rule.zone)).date()
                calendar = calendar_for(rule.jurisdiction, came.year, came.year + 1)
                days.append(honour_by(came, rule.honour_days, calendar))
        if days:
            found[reply.reply_id] = min(days)
    return found

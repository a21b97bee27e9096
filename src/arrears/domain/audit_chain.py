"""The audit log's hash chain: each entry's hash covers its content and the previous hash, so
changing, removing or reordering any entry breaks every hash after it (tamper evidence, PIPL
Art. 55/56 records of processing)."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arrears.domain.errors import DomainError

GENESIS = "0" * 64  # the "previous hash" of the first entry


@dataclass(frozen=True)
class AuditEntry:
    """One thing a person did or saw: who, when, what, on which subject, with details."""

    at: datetime
    actor: str
    action: str  # e.g. pii.unmask, contact.log, proposal.approve, login
    subject: str  # e.g. loan:L0001, borrower:B0001, user:u1
    detail: dict[str, Any]

    def __post_init__(self) -> None:
        # One spelling of each instant, so the hash is the same wherever it is recomputed.
        if self.at.utcoffset() != timedelta(0):
            raise DomainError(f"audit instant {self.at.isoformat()} must be in UTC")


@dataclass(frozen=True)
class ChainedEntry:
    """An entry as stored: its sequence number, the previous entry's hash and its own."""

    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str


def entry_hash(seq: int, entry: AuditEntry, prev_hash: str) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the entry (sorted keys, UTC
    instant), so the same entry always hashes the same on SQLite and PostgreSQL."""
    document = {
        "seq": seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of verifying a chain: how many entries, and the first broken one."""

    entries: int
    broken_at: int | None  # seq of the first entry whose hash does not verify
    problem: str | None
    last_seq: int = 0  # the last entry's (entries past the head read before included)
    last_hash: str = ""  # the last entry's hash: an anchor to keep outside the database

    @property
    def intact(self) -> bool:
        """Whether every entry verified."""
        return self.broken_at is None


def verify_chain(
    entries: Iterable[ChainedEntry],
    head: tuple[int, str] | None = None,
    anchor: tuple[int, str] | None = None,
) -> ChainCheck:
    """Recompute every hash in sequence order; report the first entry that does not fit.
    With the head the log keeps apart ((last sequence number, last hash), read before the
    entries), entries removed from the end are found too. Entries past that head (appended
    meanwhile) are verified as well: a row written around the log breaks the chain there; one
    chained correctly but past the head read after them is the caller's to refuse
    (`last_seq`). With an anchor (a sequence number and the hash its entry had, kept outside
    the database), a chain rewritten with its hashes worked out again is found too."""
    previous, expected_seq, count, at_head = GENESIS, 1, 0, GENESIS
    for chained in entries:
        count += 1
        if chained.seq != expected_seq:
            return ChainCheck(count, chained.seq, f"entry {expected_seq} is missing")
        if chained.prev_hash != previous:
            return ChainCheck(count, chained.seq, "its previous hash is not the entry before's")
        if entry_hash(chained.seq, chained.entry, previous) != chained.hash:
            return ChainCheck(count, chained.seq, "its content does not match its hash")
        if anchor is not None and chained.seq == anchor[0] and chained.hash != anchor[1]:
            return ChainCheck(count, chained.seq, "its hash is not the one kept outside the "
                              "database: the log was rewritten up to here")  # fmt: skip
        if head is not None and chained.seq == head[0]:
            at_head = chained.hash
        previous, expected_seq = chained.hash, expected_seq + 1
    last = expected_seq - 1
    if head is not None and (last < head[0] or at_head != head[1]):
        return ChainCheck(count, expected_seq, f"entries after {last} are missing "
                          f"(the log's head is at {head[0]})", last, previous)  # fmt: skip
    if anchor is not None and last < anchor[0]:
        problem = f"entries after {last} are missing (an anchor kept outside is at {anchor[0]})"
        return ChainCheck(count, last + 1, problem, last, previous)
    return ChainCheck(count, None, None, last, previous)

"""Ports: the roles the use cases need from adapters (stores, feed readers), as Protocols."""

from collections.abc import Callable, Collection, Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import ContactAttempt, ContactDecision, Hold, OptOut
from arrears.domain.content_lint import LintedText
from arrears.domain.errors import DomainError, Refusal
from arrears.domain.loan import Loan, Payment
from arrears.domain.terms import Pricing
from arrears.services.feed import FeedError, FeedKind

# progress(done, total): called as work advances; `total` may be revised while reading.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class KeyQuery:
    """The keys a feed mentions, whose stored counterparts validation must see."""

    borrowers: frozenset[str] = frozenset()
    contacts: frozenset[str] = frozenset()
    loans: frozenset[str] = frozenset()
    installments_of: frozenset[str] = frozenset()  # loan ids whose instalment seqs are wanted
    payments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StoredPayment:
    """What identifies a stored payment's content, to tell a re-import from a conflict."""

    loan_id: str
    amount: int
    paid_on: date


@dataclass(frozen=True)
class StoredKeys:
    """The stored part of a `KeyQuery`'s keys (keys absent here are not in the store)."""

    borrowers: frozenset[str] = frozenset()
    contacts: frozenset[str] = frozenset()
    loans: Mapping[str, date] = field(default_factory=dict)  # loan id -> contract date
    installments: frozenset[tuple[str, int]] = frozenset()  # (loan id, seq)
    payments: Mapping[str, StoredPayment] = field(default_factory=dict)
    principals: Mapping[str, int] = field(default_factory=dict)  # loan id -> its principal
    # loan id -> the principal its stored instalments schedule (of installments_of's loans)
    scheduled: Mapping[str, int] = field(default_factory=dict)


class FeedRows(Protocol):
    """Checked rows ready to store, as tuples in `columns` order (the table's columns)."""

    @property
    def kind(self) -> FeedKind:
        """The feed kind, which names the table."""
        ...

    @property
    def columns(self) -> tuple[str, ...]:
        """The table columns each tuple fills, in order."""
        ...

    def __len__(self) -> int:
        """How many rows will be written."""
        ...

    def chunks(self, size: int, *, iso_dates: bool = False) -> Iterator[list[tuple[object, ...]]]:
        """Rows in chunks of `size`; dates as `date`, or as ISO text when `iso_dates`."""
        ...


@dataclass(frozen=True)
class StoredCheck:
    """The outcome of checking a feed against the store: errors, and what is left to write."""

    errors: list[FeedError]
    error_count: int
    rows: FeedRows
    skipped: int  # rows already stored with identical content (idempotent re-import)


class ParsedFeed(Protocol):
    """A whole feed file, read and checked on its own (cells, types, duplicate keys)."""

    @property
    def kind(self) -> FeedKind:
        """The feed kind."""
        ...

    @property
    def rows_read(self) -> int:
        """Data rows in the file (blank lines not counted)."""
        ...

    @property
    def errors(self) -> list[FeedError]:
        """Errors found in the file alone (the first ones, if there are many)."""
        ...

    @property
    def error_count(self) -> int:
        """How many errors the file alone has, counting those not kept."""
        ...

    def key_query(self) -> KeyQuery:
        """The stored keys validation needs to see."""
        ...

    def check_stored(self, stored: StoredKeys) -> StoredCheck:
        """Check references and key clashes against the store; say what is left to write."""
        ...


class FeedReader(Protocol):
    """Reads and checks a feed file; refuses a file it cannot read (FeedRejected)."""

    def read(
        self,
        kind: FeedKind,
        path: Path,
        known_products: Set[str],
        progress: Progress | None = None,
        pricing: Pricing | None = None,
        phone_region: str = "CN",
    ) -> ParsedFeed:
        """Read the whole file in batches, reporting rows read against the expected total; a
        loan that no run could price under `pricing` is refused by row; a phone number
        written without +country code is read as a number of `phone_region` (ISO 3166)."""
        ...


class StoreConflict(Exception):
    """A write clashed with data stored meanwhile by someone else; nothing was written."""


class LedgerStore(Protocol):
    """The stored ledger: borrowers, contacts, loans, instalments and payments."""

    def write_feed(
        self,
        query: KeyQuery,
        rows_of: Callable[[StoredKeys], FeedRows],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Read the stored keys and write the rows `rows_of` leaves, in one transaction no
        other import changes meanwhile (nothing written if `rows_of` raises), reporting rows
        written; StoreConflict on a clash."""
        ...

    def load_book(
        self, loan_ids: Collection[str] | None = None
    ) -> Iterator[tuple[Loan, list[Payment]]]:
        """Every loan (or the given ones) with its schedule and payments, in bulk."""
        ...


@dataclass(frozen=True)
class ContactFile:
    """What is stored about a borrower that contact decisions read (registered contacts only)."""

    borrower_id: str
    phone: str  # E.164
    timezone: str | None  # the recorded IANA zone; None = derived from the phone number
    products: frozenset[str]  # of the borrower's loans, which say which rule packs apply
    contacts: Mapping[str, str]  # registered contact id -> E.164 phone (never a phone book)
    attempts: tuple[ContactAttempt, ...] = ()
    holds: tuple[Hold, ...] = ()
    opt_outs: tuple[OptOut, ...] = ()
    # Other borrowers' attempts to the borrower's number or a registered contact's (a number
    # two borrowers share): the per-number dial cap counts every attempt to the number. A
    # call or SMS on record without its number (naming no contact) rang its borrower's own
    # number, and comes with it.
    shared_dials: tuple[ContactAttempt, ...] = ()

    def numbers(self) -> frozenset[str]:
        """The numbers this file's contacts are dialled on: the borrower's and each contact's."""
        return frozenset({self.phone, *self.contacts.values()})


@dataclass(frozen=True)
class StoredAttempt:
    """A recorded contact attempt with the compliance decision taken at its instant."""

    attempt_id: int
    borrower_id: str
    attempt: ContactAttempt
    recorded_at: datetime
    decision: ContactDecision
    note: LintedText | None = None  # what the collector wrote, with the lint's findings


class AttemptsChanged(DomainError):
    """Attempts were recorded for the borrower or to their numbers after the file a decision
    was taken on was read: decide again (ContactStore.record_attempt)."""


class HoldExists(Refusal):
    """A hold of that kind from that day is already placed (ContactStore.record_hold)."""


class ContactStore(Protocol):
    """Stored contact history: attempts with their decisions, holds and opt-outs."""

    def load_contact_file(self, borrower_id: str) -> ContactFile | None:
        """Everything contact decisions need about a borrower; None if the borrower is unknown."""
        ...

    def shared_dials(
        self, borrower_id: str, numbers: Collection[str]
    ) -> tuple[ContactAttempt, ...]:
        """Other borrowers' attempts to any of the numbers, oldest first (with their number:
        ContactFile.shared_dials)."""
        ...

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
        """Store an attempt (always: it happened) with the decision taken at its instant, the
        collector's note with its findings (kept whatever they are), and its audit entry in
        the same transaction when given. With `seen` (the file the
        decision was taken on), only while the attempts on record for the borrower and to the
        file's numbers and the attempt's are still those it holds, checked and stored with
        the borrower held (and those who share their numbers): AttemptsChanged otherwise, and
        nothing is stored (two desks logging at once are decided one after the other)."""
        ...

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
        note when one is given, with the content lint's `findings` (None: none) and `at` as
        the instant it was written (with its audit entry in the same transaction when
        given). `new`: only a hold not yet placed, HoldExists otherwise (nothing written);
        `placed_by`: who placed a new one when not the desk or the console."""
        ...

    def record_opt_out(
        self, borrower_id: str, opt_out: OptOut, audit: AuditEntry | None = None
    ) -> None:
        """Store an opt-out of a channel; an earlier one for the channel is kept (with its
        audit entry in the same transaction when given)."""
        ...


class PhoneNumbers(Protocol):
    """Phone numbers: their E.164 form and the time zones in which they may ring."""

    def normalise(self, raw: str, like: str | None = None) -> str:
        """The number in E.164, or ValueError saying what is wrong; written without +country
        code, a number of the country of `like` (a number in E.164, e.g. the borrower's)."""
        ...

    def zones(
        self,
        phone: str | None,
        default_zone: str,
        recorded: str | None = None,
        *,
        number_too: bool = False,
    ) -> tuple[str, ...]:
        """A person's candidate zones: the recorded zone wins (with `number_too`, the recorded
        zone and then the number's), else the number's, else default."""
        ...

"""Ports of case work: people and their access, the audit log, and the case store."""

import hashlib
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from arrears.domain.access import Principal, Role, Scope
from arrears.domain.audit_chain import AuditEntry, ChainedEntry
from arrears.domain.errors import DomainError, Refusal
from arrears.domain.outsourcing import Agency

LOCALES = ("zh-CN", "zh-TW", "en")


@dataclass(frozen=True)
class UserRecord:
    """A person who signs in: name, role, team or agency, password hash, language."""

    user_id: str
    display_name: str
    role: Role
    password_hash: str
    team_id: str | None = None
    agency_id: str | None = None
    locale: str = "zh-CN"
    active: bool = True

    def principal(self) -> Principal:
        """The person as access rules see them."""
        return Principal(self.user_id, self.role, self.team_id, self.agency_id)


class NotACollectorOfTeam(Refusal):
    """A case given to someone who is not (or no longer) an active collector of its team."""


def credential(password_hash: str) -> str:
    """What a session or token keeps of the password hash it was opened with (its SHA-256):
    it is valid only while the user's password is still that one, so a sign-in under way
    when the password is reset opens nothing that lasts."""
    return hashlib.sha256(password_hash.encode()).hexdigest()


class PasswordHasher(Protocol):
    """Hashes and verifies passwords (argon2id in production)."""

    def hash(self, password: str) -> str:
        """A salted hash with its parameters."""
        ...

    def verify(self, stored: str, password: str) -> bool:
        """Whether the password matches the stored hash."""
        ...


class IdentityStore(Protocol):
    """Users, teams, agencies, sessions, API tokens and failed log-ins."""

    def add_team(self, team_id: str, name: str, audit: AuditEntry) -> None:
        """Create a team."""
        ...

    def add_agency(self, agency: Agency, audit: AuditEntry) -> None:
        """Create an agency with its commission rate (exact decimal text), its white-list
        standing and its last evaluation (refused, naming the id, if it is taken)."""
        ...

    def evaluate_agency(
        self, agency_id: str, listed: bool, evaluated_on: date, audit: AuditEntry
    ) -> bool:
        """Record an agency's evaluation, audited: its day and whether the agency is on the
        white list after it (it replaces the one before); False: no such agency, nothing
        written."""
        ...

    def set_agency_commission(
        self, agency_id: str, rate: str, audit_of: Callable[[str], AuditEntry]
    ) -> str | None:
        """Set an agency's commission rate (exact decimal text) for the placements made from
        now on, audited by `audit_of(the rate replaced)`, which may refuse; the rate replaced,
        or None: no such agency, nothing written."""
        ...

    def add_user(self, user: UserRecord, at: datetime, audit: AuditEntry) -> None:
        """Create a user (refused, naming the id, if it is taken)."""
        ...

    def user(self, user_id: str) -> UserRecord | None:
        """A user by id."""
        ...

    def user_named(self, user_id: str) -> UserRecord | None:
        """A user whose id matches in any case (ids are unique in any case)."""
        ...

    def users(self) -> list[UserRecord]:
        """Every user, by id."""
        ...

    def teams(self) -> list[tuple[str, str]]:
        """Every team: (id, name)."""
        ...

    def agencies(self) -> list[Agency]:
        """Every agency, by id."""
        ...

    def set_locale(self, user_id: str, locale: str, audit: AuditEntry) -> None:
        """Change a user's language, audited."""
        ...

    def set_active(self, user_id: str, active: bool, audit: AuditEntry) -> bool:
        """Enable or disable a user (their sessions and tokens stop working); False if unknown."""
        ...

    def update_user(self, user: UserRecord, audit: AuditEntry) -> int:
        """Store a user's new display name, role, team and agency, audited (refused by name
        when the team or agency does not exist); a collector leaving their team or role gives
        their cases back to the team's pool: how many."""
        ...

    def set_password(
        self, user_id: str, password_hash: str, audit: AuditEntry, was: str | None = None
    ) -> bool:
        """Store a user's new password hash, end their sessions and revoke their tokens,
        audited; False if unknown, or (`was` given) if their hash is no longer `was`."""
        ...

    def reserve_attempt(
        self, user_id: str, client: str, at: datetime, since: datetime
    ) -> tuple[int, int, int]:
        """Note a log-in attempt as failed until it is known to have succeeded, and count the
        failures since an instant with it, for this user name and from this client: its id
        and the two counts, taken one attempt at a time (attempts sent at once each count
        those before them)."""
        ...

    def release_attempt(self, attempt_id: int) -> None:
        """Forget an attempt reserved: it succeeded, or was not made (throttled)."""
        ...

    def record_failure(self, audit: AuditEntry) -> None:
        """Keep a reserved attempt as a failed log-in, audited."""
        ...

    def open_session(
        self,
        token_hash: str,
        user_id: str,
        csrf: str,
        at: datetime,
        until: datetime,
        audit: AuditEntry,
        checked: str,
    ) -> None:
        """Store a session (by its token's hash) opened with the password hash `checked`."""
        ...

    def session(self, token_hash: str, now: datetime) -> tuple[str, str] | None:
        """(user id, CSRF token) of a session still valid at `now`: not expired, its user
        active and their password still the one it was opened with."""
        ...

    def close_session(self, token_hash: str, audit: AuditEntry) -> None:
        """End a session."""
        ...

    def add_token(
        self,
        token_hash: str,
        user_id: str,
        name: str,
        at: datetime,
        until: datetime,
        audit: AuditEntry,
        checked: str,
    ) -> None:
        """Store an API token (by its hash) issued on the password hash `checked`."""
        ...

    def token_user(self, token_hash: str, now: datetime) -> str | None:
        """The user of an API token valid at `now` (as a session is)."""
        ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit log."""

    def record(self, entry: AuditEntry) -> ChainedEntry:
        """Append an entry on its own."""
        ...

    def entries(
        self,
        *,
        subject: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[ChainedEntry]:
        """Entries in sequence order, filtered."""
        ...

    def chain(self) -> Generator[ChainedEntry, None, None]:
        """Every entry in sequence order (closed, it lets go of what it reads through)."""
        ...

    def head(self) -> tuple[int, str]:
        """The last sequence number and hash, kept apart from the entries."""
        ...


@dataclass(frozen=True)
class QueueRow:
    """One case in a queue, with what its priority is computed from."""

    loan_id: str
    borrower_id: str
    borrower_name: str
    product: str
    dpd: int
    bucket: str
    stage: str
    overdue_minor: int  # in the loan's currency
    currency: str
    broken_promises: int
    team_id: str | None
    collector_id: str | None
    agency_id: str | None
    score: int | None = None  # the lender's, as its loans feed gave it


@dataclass(frozen=True)
class QueueFilter:
    """Which cases of the scope a queue shows (None: any)."""

    stage: str | None = None
    bucket: str | None = None
    product: str | None = None
    collector_id: str | None = None
    unassigned: bool = False


class ExtensionsChanged(DomainError):
    """Extensions were approved on the case after a proposal's limit was checked: decide
    again (CaseStore.add_proposal, decide_proposal)."""


@dataclass(frozen=True)
class CaseRecord:
    """What the store holds about a case, for the case view (identifiers in clear: the
    service masks them)."""

    loan_id: str
    borrower: Mapping[str, Any]
    loan: Mapping[str, Any]
    state: Mapping[str, Any] | None
    case: Mapping[str, Any] | None
    assignment: Mapping[str, Any] | None
    placement: Mapping[str, Any] | None
    attempts: list[Mapping[str, Any]] = field(default_factory=list)
    promises: list[Mapping[str, Any]] = field(default_factory=list)
    notes: list[Mapping[str, Any]] = field(default_factory=list)
    proposals: list[Mapping[str, Any]] = field(default_factory=list)
    holds: list[Mapping[str, Any]] = field(default_factory=list)
    contacts: list[Mapping[str, Any]] = field(default_factory=list)


class CaseStore(Protocol):
    """Cases as the desk sees and works them, always within a scope."""

    def visible(self, scope: Scope, loan_id: str) -> bool:
        """Whether the loan exists and is in the scope."""
        ...

    def queue(self, scope: Scope, which: QueueFilter, limit: int | None) -> list[QueueRow]:
        """The scope's cases matching the filter (by loan id, at most `limit`; the service
        ranks them)."""
        ...

    def case(self, loan_id: str) -> CaseRecord | None:
        """Everything about one case."""
        ...

    def last_run(self) -> date | None:
        """The as-of date of the latest end-of-day run."""
        ...

    def product_of(self, loan_id: str) -> str | None:
        """A loan's product code (None: no such loan)."""
        ...

    def add_note(
        self,
        loan_id: str,
        author: str,
        at: datetime,
        text: str,
        audit: AuditEntry,
        findings: list[dict[str, Any]] | None = None,
    ) -> int:
        """Store a note with the content lint's findings (None: none); its id."""
        ...

    def add_promise(self, promise: Mapping[str, Any], audit: AuditEntry) -> None:
        """Store a promise to pay (open until the run judges it)."""
        ...

    def add_proposal(
        self, proposal: Mapping[str, Any], audit: AuditEntry, extended: int | None = None,
        *, alone_since: datetime | None = None,
    ) -> int:  # fmt: skip
        """Store a proposal; its id. `extended`: the days of approved extensions on the case
        it was decided on, checked with the case held (ExtensionsChanged if others were
        approved meanwhile, nothing stored); `alone_since`: refused (a Refusal, nothing
        stored) while another proposal on the case waits, or when its proposer made one on
        it at or after that instant, checked with the case held."""
        ...

    def proposal(self, proposal_id: int) -> Mapping[str, Any] | None:
        """One proposal."""
        ...

    def decide_proposal(
        self,
        proposal_id: int,
        status: str,
        by: str,
        at: datetime,
        note: str,
        audit: AuditEntry,
        extended: int | None = None,
        effective_on: date | None = None,
        note_findings: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Approve or reject a pending proposal, with the approver's note and the content
        lint's findings in it (None: none); False if it was no longer pending. `extended`: as
        add_proposal's; `effective_on`: approved, the day it changes the loan's schedule
        from."""
        ...

    def pending_proposals(self, scope: Scope) -> list[Mapping[str, Any]]:
        """Proposals awaiting a decision on the scope's cases."""
        ...

    def assign(
        self,
        loan_id: str,
        team_id: str,
        collector_id: str | None,
        on: date,
        by: str,
        audit: AuditEntry,
    ) -> None:
        """Give a case to a team (and a collector of it), replacing any assignment; refused
        (NotACollectorOfTeam) unless the collector is an active collector of that team when
        it is written."""
        ...

    def workloads(self, team_ids: list[str]) -> dict[str, tuple[str, int]]:
        """Each active collector of the teams: (their team, cases assigned to them)."""
        ...

    def team_of(self, user_id: str) -> str | None:
        """The team a user is of (None: none, or no such user)."""
        ...

    def agency(self, agency_id: str) -> Agency | None:
        """An agency: its commission rate, white-list standing and last evaluation (None: no
        such agency)."""
        ...

    def place(
        self,
        loan_id: str,
        agency: Agency,
        on: date,
        balance: int,
        by: str,
        audit: AuditEntry,
    ) -> None:
        """Place a case with an agency at its commission rate (it must not be placed already);
        refused when the agency stored is no longer `agency` as judged (evaluated or changed
        meanwhile), checked in the transaction that places."""
        ...

    def recall(self, loan_id: str, on: date, audit: AuditEntry) -> bool:
        """End the case's current placement; False if it was not placed."""
        ...

"""Port of field visits and the legal track."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import ContactAttempt, ContactDecision
from arrears.domain.escalation import ActionRecord
from arrears.domain.legal_deadlines import Deadline
from arrears.domain.legal_track import LegalStep
from arrears.services.ports import ContactFile

# A visit's contact attempt to record with its report: borrower, attempt, recorded at, the
# rules' decision, its audit entry, and the file the decision was taken on.
VisitContact = tuple[str, ContactAttempt, datetime, ContactDecision, AuditEntry, ContactFile]


class TrackStore(Protocol):
    """Visits, legal cases and a case's history of actions."""

    def history(self, loan_id: str) -> list[ActionRecord]:
        """The case's actions on record (what the escalation guards look at)."""
        ...

    def add_visit(
        self, row: dict[str, Any], audit: AuditEntry, open_from: date, check: Callable[[], object]
    ) -> int:
        """Store a visit request; its id. Refused (DomainError, nothing written) while the
        loan has a visit open (requested or approved, planned on `open_from` or later), or
        when `check` raises, asked once the write lock is held."""
        ...

    def visit(self, visit_id: int) -> dict[str, Any] | None:
        """One visit."""
        ...

    def visits(self, loan_id: str) -> list[dict[str, Any]]:
        """A case's visits, newest first."""
        ...

    def set_visit(
        self,
        visit_id: int,
        was: str,
        values: dict[str, Any],
        audit: AuditEntry,
        check: Callable[[], object] | None = None,
    ) -> bool:
        """Move a visit on from status `was`; False if it was no longer in it. `check` is
        asked once the write lock is held; if it raises, nothing is written."""
        ...

    def report_visit(
        self,
        visit_id: int,
        values: dict[str, Any],
        audit: AuditEntry,
        contact: VisitContact,
        check: Callable[[], object] | None = None,
    ) -> bool:
        """Move an approved visit to done (`values`) and record its contact attempt, in one
        transaction; False (nothing written) if it was no longer approved; AttemptsChanged
        (nothing written) if the borrower's attempts are no longer those it was decided on;
        `check` asked once the write lock is held (if it raises, nothing is written)."""
        ...

    def legal_case(self, loan_id: str) -> dict[str, Any] | None:
        """The case's legal track with its steps."""
        ...

    def add_step(
        self, loan_id: str, step: LegalStep, deadline: Deadline | None, by: str,
        audit: AuditEntry,
    ) -> None:  # fmt: skip
        """Record a legal step (opening the track with the first), refused (DomainError) unless
        it may follow the steps on record when it is written (legal_track.check_next: two
        steps sent at once cannot both follow the same one); with it, set or clear the
        loan's `legal` flag (legal_track.referral_after), set the deadline it starts, or end
        the one running when the step ends it (legal_track.ENDS_DEADLINE)."""
        ...

    def flags(self, loan_id: str) -> list[dict[str, Any]]:
        """The flags set on a loan, by name: flag, set_on, set_by, reason, reason_findings
        (the content lint's, None: none), set_at (None: set by the legal track)."""
        ...

    def set_flag(
        self,
        loan_id: str,
        flag: str,
        on: date,
        by: str,
        reason: str,
        audit: AuditEntry,
        at: datetime,
        findings: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Set a flag on a loan on desk day `on` at instant `at`, with the reason and the
        content lint's findings in it (None: none); False if it was set already (nothing
        written)."""
        ...

    def clear_flag(self, loan_id: str, flag: str, audit: AuditEntry) -> bool:
        """Clear a flag; False if it was not set (nothing written)."""
        ...

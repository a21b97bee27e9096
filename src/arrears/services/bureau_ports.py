"""What the credit-bureau export needs of a store (adapters/db/bureau_store.py)."""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.bureau_disputes import Dispute


@dataclass(frozen=True)
class Attempt:
    """A contact attempt to the borrower: its channel, outcome and instant (aware)."""

    channel: str
    outcome: str
    at: datetime


class BureauStore(Protocol):
    """Earlier exports, the evidence a reporting rule reads, and a month's records."""

    def furnished(self, loan_ids: Collection[str], before: date) -> dict[str, dict[date, str]]:
        """Each loan's statuses furnished in months before `before`, by month."""
        ...

    def done_on(self, loan_ids: Collection[str], action: str, by: date) -> dict[str, list[date]]:
        """The days an action of the ladder planned for each loan up to `by` was done (its
        outcome done, sent or delivered)."""
        ...

    def attempts(self, borrower_ids: Collection[str], until: datetime) -> dict[str, list[Attempt]]:
        """Each borrower's own contact attempts before `until`."""
        ...

    def replace_month(
        self,
        month: date,
        jurisdiction: str,
        rows: Sequence[Mapping[str, Any]],
        entry: AuditEntry,
        publish: Callable[[], None],
    ) -> None:
        """The month's records of a jurisdiction's loans, in place of any made before, with
        `publish` done before they are committed (its failure stores nothing)."""
        ...


class DisputeStore(Protocol):
    """Borrowers' disputes of furnished records."""

    def furnished_record(self, loan_id: str, month: date) -> str | None:
        """The jurisdiction the loan's record of the month was furnished under (None: not)."""
        ...

    def add_dispute(self, row: Mapping[str, Any], entry: Callable[[int], AuditEntry]) -> int:
        """Store a dispute with its audit entry (made of its id); its id."""
        ...

    def dispute(self, dispute_id: int) -> Dispute | None:
        """One dispute."""
        ...

    def disputes(self) -> list[Dispute]:
        """Every dispute, oldest first."""
        ...

    def answer_dispute(self, dispute_id: int, answer: Mapping[str, Any], entry: AuditEntry) -> bool:
        """Record the answer while the dispute is unanswered (False: answered meanwhile)."""
        ...

"""Use cases that record contact facts: an attempt made (with its decision), holds, opt-outs."""

from datetime import datetime

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import ContactAttempt, ContactDecision, ContactRequest, Hold, OptOut
from arrears.domain.errors import DomainError
from arrears.services.contact_check import (
    ContactInputError,
    ContactRefused,
    ContactTerms,
    decide_in_file,
    load_file,
    resolve_request,
    with_dials_to,
)
from arrears.services.ports import ContactStore, StoredAttempt


def log_contact(
    store: ContactStore,
    terms: ContactTerms,
    request: ContactRequest,
    outcome: str,
    recorded_at: datetime,
    audit: AuditEntry | None = None,
) -> StoredAttempt:
    """Record an attempt that happened, with the decision the packs take at its instant.

    It is recorded even when a rule was broken (the record is a fact, flagged allowed=false);
    only a contact the borrower never registered is refused: no phone book is ever stored.
    """
    attempt, decision = prepare_attempt(store, terms, request, outcome)
    return store.record_attempt(request.borrower_id, attempt, recorded_at, decision, audit)


def prepare_attempt(
    store: ContactStore, terms: ContactTerms, request: ContactRequest, outcome: str
) -> tuple[ContactAttempt, ContactDecision]:
    """The attempt as it will be stored, with the packs' decision at its instant (log_contact
    without the write: a caller writing it with other records in one transaction)."""
    file = load_file(store, request.borrower_id)
    if request.contact_id is not None and request.contact_id not in file.contacts:
        raise ContactRefused(
            f"contact {request.contact_id!r} is not registered for borrower "
            f"{request.borrower_id!r} (only contacts the borrower registered may be reached)"
        )
    resolved = resolve_request(file, terms, request)
    try:
        attempt = ContactAttempt(
            resolved.at, resolved.channel, resolved.to_phone, resolved.contact_id, outcome
        )
    except DomainError as error:
        raise ContactInputError(str(error)) from None
    return attempt, decide_in_file(with_dials_to(store, file, resolved), resolved, terms, attempt)


def place_hold(store: ContactStore, borrower_id: str, hold: Hold) -> None:
    """Pause collection for a borrower (or change the end of a hold placed before)."""
    load_file(store, borrower_id)
    store.record_hold(borrower_id, hold)


def record_opt_out(store: ContactStore, borrower_id: str, opt_out: OptOut) -> None:
    """Record that a borrower asked not to be contacted through a channel."""
    load_file(store, borrower_id)
    store.record_opt_out(borrower_id, opt_out)

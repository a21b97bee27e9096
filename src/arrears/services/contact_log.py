"""Use cases that record contact facts: an attempt made (with its decision), holds, opt-outs."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import ContactAttempt, ContactDecision, ContactRequest, Hold, OptOut
from arrears.domain.content_lint import LintedText
from arrears.domain.errors import DomainError, Refusal
from arrears.services.contact_check import (
    ContactInputError,
    ContactTerms,
    decide_in_file,
    load_file,
    resolve_request,
    with_dials_to,
)
from arrears.services.content_check import findings_document, packs_of, written
from arrears.services.ports import AttemptsChanged, ContactFile, ContactStore, StoredAttempt


class ContactNotRegistered(Refusal):
    """A contact the borrower never registered: nothing is decided or recorded (a Refusal, so a
    page says it in its reader's language: helper-112 saw it in English on a zh-CN page)."""


def log_contact(
    store: ContactStore,
    terms: ContactTerms,
    request: ContactRequest,
    outcome: str,
    recorded_at: datetime,
    audit: AuditEntry | None = None,
    note: str = "",
) -> StoredAttempt:
    """Record an attempt that happened, with the decision the packs take at its instant, and
    what the collector wrote about it with the content lint's findings.

    It is recorded even when a rule was broken (the record is a fact, flagged allowed=false),
    and its note whatever the lint finds in it (the audit entry names the rules); only a
    contact the borrower never registered is refused: no phone book is ever stored.
    """

    def decided() -> Decided:
        attempt, decision, file = prepare_attempt(store, terms, request, outcome)
        kept = note_of(terms, file, note)
        return attempt, decision, file, with_findings(audit, kept), kept

    return record_decided(store, request.borrower_id, recorded_at, decided)


def note_of(terms: ContactTerms, file: ContactFile, note: str) -> LintedText | None:
    """A contact's note with what the content rules of the borrower's loans find in it."""
    return written(note, packs_of(terms.content, terms.jurisdictions, file.products))


def with_findings(entry: AuditEntry | None, note: LintedText | None) -> AuditEntry | None:
    """The audit entry naming the rules the note's findings are of (unchanged without any)."""
    if entry is None or note is None or not note.findings:
        return entry
    return replace(entry, detail={**entry.detail, "findings": note.rules})


# An attempt as it will be stored, its decision, the file it was taken on, its audit entry
# and the note written about it (with its findings).
Decided = tuple[ContactAttempt, ContactDecision, ContactFile, AuditEntry | None, LintedText | None]
# Decisions taken again while other attempts of the borrower are logged meanwhile. Of the
# desks deciding at once, each round stores one, so a decision is retaken at most once per
# other desk: 5 let a sixth desk logging the same borrower at the same moment fail (now that
# a contact made against the rules is stored flagged, every desk's call writes). 20 desks.
TRIES = 20


def record_decided(
    store: ContactStore, borrower_id: str, recorded_at: datetime, decided: Callable[[], Decided]
) -> StoredAttempt:
    """Store the attempt `decided` gives, deciding again while attempts for the borrower or
    to their numbers are logged meanwhile (AttemptsChanged): a decision counts every attempt
    stored before this one, as the caps require when desks log at once."""
    for _ in range(TRIES):
        attempt, decision, file, audit, note = decided()
        try:
            return store.record_attempt(
                borrower_id, attempt, recorded_at, decision, audit, file, note
            )
        except AttemptsChanged:
            continue
    raise Refusal(
        "contacts of borrower {borrower_id} kept being logged while this one was decided: "
        "nothing was recorded, log it again",
        borrower_id=repr(borrower_id),
    )


def prepare_attempt(
    store: ContactStore, terms: ContactTerms, request: ContactRequest, outcome: str
) -> tuple[ContactAttempt, ContactDecision, ContactFile]:
    """The attempt as it will be stored, with the packs' decision at its instant and the file
    it was taken on (log_contact without the write: a caller writing it with other records
    in one transaction)."""
    file = load_file(store, request.borrower_id)
    if request.contact_id is not None and request.contact_id not in file.contacts:
        raise ContactNotRegistered(
            "contact {contact_id} is not registered for borrower {borrower_id} (only contacts "
            "the borrower registered may be reached)",
            contact_id=repr(request.contact_id),
            borrower_id=repr(request.borrower_id),
        )
    resolved = resolve_request(file, terms, request)
    try:
        attempt = ContactAttempt(
            resolved.at, resolved.channel, resolved.to_phone, resolved.contact_id, outcome
        )
    except DomainError as error:
        raise ContactInputError(str(error)) from error  # a page words its cause, translated
    file = with_dials_to(store, file, resolved)
    return attempt, decide_in_file(file, resolved, terms, attempt), file


def place_hold(
    store: ContactStore,
    terms: ContactTerms,
    borrower_id: str,
    hold: Hold,
    at: datetime,
    audit: AuditEntry | None = None,
) -> LintedText | None:
    """Pause collection for a borrower at `at` (or change the end of a hold placed before,
    and its note when one is given), with its audit entry in the same transaction when
    given: the note kept as written with what the content rules of the borrower's loans
    find in it (never refused for that; the audit entry names their rules), as kept."""
    kept = note_of(terms, load_file(store, borrower_id), hold.note)
    held = replace(hold, note=kept.text if kept else "")
    store.record_hold(
        borrower_id, held, at, with_findings(audit, kept), findings=findings_document(kept)
    )
    return kept


def record_opt_out(
    store: ContactStore, borrower_id: str, opt_out: OptOut, audit: AuditEntry | None = None
) -> None:
    """Record that a borrower asked not to be contacted through a channel, with its audit
    entry in the same transaction when given."""
    load_file(store, borrower_id)
    store.record_opt_out(borrower_id, opt_out, audit)

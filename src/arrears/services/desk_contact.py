"""The desk's contacts: "may I contact now, by which channel?" (asked before dialling), and
logging an attempt that happened, with the rules' decision at its instant (one that broke a
rule is recorded all the same, flagged: the caps count it, and compliance sees it)."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from arrears.domain.access import Forbidden, Permission, Principal, Role, require
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import CHANNELS, ContactAttempt, ContactDecision, ContactRequest, Hold
from arrears.domain.content_lint import LintedText
from arrears.domain.errors import DomainError, Refusal, Term
from arrears.services.casework import audit, open_case
from arrears.services.casework_ports import AuditLog, CaseStore
from arrears.services.contact_check import (
    ContactTerms,
    decide_in_file,
    load_file,
    reason_document,
    resolve_request,
)
from arrears.services.contact_log import Decided, note_of, prepare_attempt, record_decided
from arrears.services.content_check import audit_findings, findings_document
from arrears.services.ports import ContactFile, ContactStore, StoredAttempt

# A death or a request to stop all contact is confirmed by compliance (or the legal officer,
# or an administrator), who alone place and lift such holds; any desk role handles disputes
# and hardship.
CONFIRMED_HOLDS = frozenset({"deceased", "cease_contact"})
CONFIRMING_ROLES = frozenset({Role.COMPLIANCE, Role.LEGAL, Role.ADMIN})
HOLD_WINDOW = timedelta(days=30)  # a hold starts within a month of the day it is recorded


def may_handle(who: Principal, kind: str) -> bool:
    """Whether the principal's role places and lifts holds of a kind (the page offers a
    lift only where it would be allowed)."""
    return kind not in CONFIRMED_HOLDS or who.role in CONFIRMING_ROLES


def _may_handle(who: Principal, kind: str) -> None:
    if not may_handle(who, kind):
        raise Forbidden(
            "a {kind} hold is placed and lifted by compliance, not by a {role}",
            kind=Term(f"hold:{kind}", kind),
            role=Term(f"role:{who.role.value}", who.role.value),
        )


# How far a logged instant may be from the server's clock: a few minutes ahead (clocks
# differ), a day behind (an attempt logged after a field shift); older history is a feed.
CLOCK_SLACK = timedelta(minutes=5)
LATE_LOG = timedelta(days=1)


class ContactBlocked(DomainError):
    """The rules forbid this contact now; nothing was attempted."""

    def __init__(self, decision: ContactDecision) -> None:
        broken = "; ".join(f"{r.rule}: {r.detail}" for r in decision.broken)
        super().__init__(f"the rules forbid this contact now: {broken}")
        self.decision = decision


@dataclass(frozen=True)
class ChannelAnswer:
    """Whether a channel may be used now, with every rule's reason."""

    channel: str
    decision: ContactDecision


def may_contact_now(
    cases: CaseStore,
    contacts: ContactStore,
    terms: ContactTerms,
    who: Principal,
    loan_id: str,
    now: datetime,
) -> list[ChannelAnswer]:
    """For each channel, the compliance engine's answer for the borrower at this instant."""
    record = open_case(cases, who, loan_id)
    file = load_file(contacts, record.borrower["borrower_id"])
    answers = []
    for channel in CHANNELS:
        request = resolve_request(file, terms, ContactRequest(file.borrower_id, channel, now))
        answers.append(ChannelAnswer(channel, decide_in_file(file, request, terms)))
    return answers


def log_desk_contact(
    cases: CaseStore,
    contacts: ContactStore,
    log: AuditLog,
    terms: ContactTerms,
    who: Principal,
    loan_id: str,
    contact: tuple[str, datetime, str | None],
    outcome: str,
    now: datetime,
    note: str = "",
) -> StoredAttempt:
    """Record a contact (channel, instant, registered contact or None for the borrower) that
    happened, with its outcome and the collector's note, decided by the rules at its instant,
    and audited in the same transaction. One they forbid is recorded too, flagged (allowed =
    false, with the rules it broke, audited so): the call was made, so the caps count it from
    then on (a US call within 7 days of that conversation, 12 CFR 1006.14(b)(2)(i)(B)), as
    `contact log` records one; the collector is told which rules it broke
    (`StoredAttempt.decision`), and the dashboard counts it. The note, of a flagged contact
    too, is kept with what the content lint finds in it (never refused for that: it records
    what was said), the audit entry naming the rules found beside the rules broken. "May I
    contact now?" is asked before dialling (may_contact_now)."""
    require(who, Permission.CONTACT_LOG)
    record = open_case(cases, who, loan_id)
    borrower = record.borrower["borrower_id"]

    def decided() -> Decided:
        attempt, decision, entry, file, kept = desk_attempt(
            contacts, log, terms, who, (loan_id, borrower), contact, outcome, now, note,
            keep_broken=True,
        )  # fmt: skip
        return attempt, decision, file, entry, kept

    return record_decided(contacts, borrower, now, decided)


def desk_attempt(
    contacts: ContactStore,
    log: AuditLog,
    terms: ContactTerms,
    who: Principal,
    owner: tuple[str, str],
    contact: tuple[str, datetime, str | None],
    outcome: str,
    now: datetime,
    note: str = "",
    *,
    keep_broken: bool = False,
) -> tuple[ContactAttempt, ContactDecision, AuditEntry, ContactFile, LintedText | None]:
    """A contact of the case `owner` (loan id, borrower id) the desk logs, decided by the
    rules (log_desk_contact without the write; the caller checked who may log it): the
    attempt, its decision, its audit entry, the file it was decided on and the note with its
    findings (the audit entry names their rules). One the rules forbid is refused
    (ContactBlocked, the refusal audited with its rules and the note's findings) unless
    `keep_broken`, when it is kept with its note and its audit entry says it broke them
    (allowed = false, the rules) beside the note's findings."""
    loan_id, borrower = owner
    channel, at, contact_id = contact
    request = ContactRequest(borrower, channel, at, contact_id=contact_id)
    if request.at > now + CLOCK_SLACK:
        raise Refusal("a contact is logged once it happened, not ahead of time")
    if request.at < now - LATE_LOG:
        raise Refusal(
            "a contact is logged within a day of it (older attempts come in through the "
            "contact feed): the escalation guards count what the desk logs"
        )
    # The decision the attempt is stored with, at its instant, counting every attempt of
    # that day (one logged at an earlier time than others of the day counts them too).
    attempt, decision, file = prepare_attempt(contacts, terms, request, outcome)
    kept = note_of(terms, file, note)
    found = audit_findings(kept)
    subject = f"loan:{loan_id}"
    broken = [reason_document(r) for r in decision.broken]
    if broken and not keep_broken:
        log.record(
            audit(
                now,
                who,
                "contact.refused",
                subject,
                channel=request.channel,
                at=request.at.isoformat(),
                rules=broken,
                **found,
            )
        )
        raise ContactBlocked(decision)
    flagged = {"allowed": False, "rules": broken} if broken else {}
    entry = audit(
        now,
        who,
        "contact.log",
        subject,
        channel=request.channel,
        at=request.at.isoformat(),
        outcome=outcome,
        contact=request.contact_id,
        **flagged,
        **found,
    )
    return attempt, decision, entry, file, kept


def place_case_hold(
    cases: CaseStore,
    contacts: ContactStore,
    terms: ContactTerms,
    who: Principal,
    loan_id: str,
    hold: Hold,
    today: date,
    now: datetime,
) -> LintedText | None:
    """Pause collection of the case's borrower (a dispute, hardship) from a day within
    HOLD_WINDOW of the desk's `today`: from then on the rules refuse contacts the pack says a
    hold stops, and the run plans none. Its note is kept as written with what the content
    rules of the borrower's loans find in it (never refused for that, the audit entry naming
    their rules): the note as kept."""
    require(who, Permission.HOLD)
    record = open_case(cases, who, loan_id)
    _may_handle(who, hold.kind)
    if abs(hold.starts_on - today) > HOLD_WINDOW:
        raise Refusal("a hold starts within {days} days of today", days=str(HOLD_WINDOW.days))
    borrower = record.borrower["borrower_id"]
    kept = note_of(terms, load_file(contacts, borrower), hold.note)
    entry = audit(
        now,
        who,
        "hold.place",
        f"loan:{loan_id}",
        kind=hold.kind,
        starts_on=hold.starts_on.isoformat(),
        ends_on=hold.ends_on.isoformat() if hold.ends_on else None,
        note=kept.text if kept else None,
        **audit_findings(kept),
    )
    # A hold placed is changed by lifting it, not by placing it again: its end and note,
    # maybe another role's, are not overwritten (helper-57).
    contacts.record_hold(
        borrower,
        replace(hold, note=kept.text if kept else ""),
        now,
        entry,
        new=True,
        findings=findings_document(kept),
    )
    return kept


def lift_case_hold(
    cases: CaseStore,
    contacts: ContactStore,
    who: Principal,
    loan_id: str,
    kind: str,
    starts_on: date,
    today: date,
    now: datetime,
) -> None:
    """End an open hold: it covers days up to yesterday (a hold placed today ends today: a
    hold is at least a day), so contacts the hold stopped are lawful again from today."""
    require(who, Permission.HOLD)
    record = open_case(cases, who, loan_id)
    _may_handle(who, kind)
    borrower = record.borrower["borrower_id"]
    found = [
        h
        for h in load_file(contacts, borrower).holds
        if h.kind == kind and h.starts_on == starts_on and h.active_on(today)
    ]
    if not found:
        raise Refusal(
            "no {kind} hold from {starts_on} is in force today to lift",
            kind=Term(f"hold:{kind}", kind),
            starts_on=starts_on.isoformat(),
        )
    ended = replace(found[0], ends_on=max(starts_on, today - timedelta(days=1)))
    if found[0].ends_on is not None and found[0].ends_on <= ended.ends_on:  # type: ignore[operator]
        raise Refusal(
            "the {kind} hold already ends {ends_on}",
            kind=Term(f"hold:{kind}", kind),
            ends_on=str(found[0].ends_on),
        )
    contacts.record_hold(
        borrower,
        replace(ended, note=""),  # its end only: the note it was placed with stays, as linted
        now,
        audit(
            now,
            who,
            "hold.lift",
            f"loan:{loan_id}",
            kind=kind,
            starts_on=starts_on.isoformat(),
            ends_on=ended.ends_on.isoformat() if ended.ends_on else None,
        ),
    )

"""Use cases of the desk: queues, the case file, unmasking, notes, promises and proposals.

Every use case takes the signed-in principal and asks domain.access whether their role may
act and whether the case is in their scope; a case outside it is "not found" (its existence
is not disclosed either). Every change and every unmasking is audited in its transaction.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import uuid4

from arrears.domain.access import Forbidden, Permission, Principal, require, scope_of
from arrears.domain.approvals import (
    APPROVERS,
    LIMITS,
    Limits,
    Proposal,
    ProposalKind,
    limit_text,
    limit_words,
    within,
    within_limits,
)
from arrears.domain.audit_chain import AuditEntry, ChainCheck, ChainedEntry, verify_chain
from arrears.domain.content_lint import LintedText
from arrears.domain.errors import Refusal, Term
from arrears.domain.pii import PII_FIELDS, shown
from arrears.domain.promises import refuse_promise_amount, refuse_promise_terms
from arrears.domain.queue_priority import Priority, QueueFacts, QueueScale, priority
from arrears.services.casework_ports import (
    AuditLog,
    CaseRecord,
    CaseStore,
    ExtensionsChanged,
    QueueFilter,
    QueueRow,
)
from arrears.services.contact_check import ContactTerms
from arrears.services.content_check import audit_findings, findings_document, packs_of, written

_Result = TypeVar("_Result")
QUEUE_LIMIT = 500  # one screen of work; a queue is worked top down, never to its end


class CaseNotFound(Refusal):
    """No such case in the principal's scope."""


def audit(now: datetime, who: Principal, action: str, subject: str, **detail: Any) -> AuditEntry:
    """An audit entry of the principal's action now."""
    return AuditEntry(now.astimezone(UTC), who.user_id, action, subject, dict(detail))


def require_case(store: CaseStore, who: Principal, loan_id: str) -> None:
    """Refuse (CaseNotFound) unless the principal may see the case: one query, for actions
    that need no more of the case than that it is theirs."""
    require(who, Permission.CASE_VIEW)
    if not store.visible(scope_of(who), loan_id):
        raise CaseNotFound("case {loan_id} not found", loan_id=repr(loan_id))


def open_case(store: CaseStore, who: Principal, loan_id: str) -> CaseRecord:
    """The case file, if the principal may see it (else CaseNotFound: a case out of scope is
    not said to exist)."""
    require_case(store, who, loan_id)
    record = store.case(loan_id)
    if record is None:
        raise CaseNotFound("case {loan_id} not found", loan_id=repr(loan_id))
    return record


def view_case(
    store: CaseStore, log: AuditLog, who: Principal, loan_id: str, now: datetime
) -> CaseRecord:
    """The case file shown to the principal, the viewing audited: the log records who saw
    whose personal information (PRODUCT.md §12; PIPL), not only who unmasked it."""
    record = open_case(store, who, loan_id)
    log.record(audit(now, who, "case.view", f"loan:{loan_id}"))
    return record


@dataclass(frozen=True)
class QueueItem:
    """A queue row with its priority."""

    row: QueueRow
    priority: Priority


def row_priority(row: QueueRow, scale: QueueScale) -> Priority:
    """A queue row's priority, its amount counted in the scale's reference currency, its
    score read in the lender's range."""
    counted = scale.minor(row.overdue_minor, row.currency)
    return priority(QueueFacts(counted, row.dpd, row.broken_promises, scale.score_share(row.score)))


def unweighed(items: list[QueueItem], scale: QueueScale) -> list[str]:
    """The currencies of a queue weighed one to one against the reference (no rate given)."""
    return sorted({i.row.currency for i in items if not scale.known(i.row.currency)})


def work_queue(
    store: CaseStore, who: Principal, which: QueueFilter, scale: QueueScale | None = None
) -> list[QueueItem]:
    """The principal's queue: the cases of their scope that match, highest priority first
    (amounts in several currencies weighed by `scale`, else one to one)."""
    require(who, Permission.CASE_VIEW)
    # Every matching case is ranked, then a screen's worth kept: a cut before ranking (by
    # amount, say) would drop small, old cases with broken promises that rank high.
    rows = store.queue(scope_of(who), which, None)
    scale = scale or QueueScale()
    items = [QueueItem(r, row_priority(r, scale)) for r in rows]
    items.sort(key=lambda item: (-item.priority.total, item.row.loan_id))
    return items[:QUEUE_LIMIT]


def masked_borrower(who: Principal, record: CaseRecord) -> dict[str, Any]:
    """The borrower as the principal sees them: every identifier masked (showing one in
    clear is `unmask`, an act of its own)."""
    person = dict(record.borrower)
    for name in PII_FIELDS:
        person[name] = shown(who, name, person.get(name), unmasked=False)
    return person


def unmask(
    store: CaseStore,
    log: AuditLog,
    who: Principal,
    loan_id: str,
    field: str,
    now: datetime,
) -> str | None:
    """Show one identifier of the case's borrower in clear: an explicit act, audited."""
    if field not in PII_FIELDS:
        raise Refusal(
            "{field} is not a personal identifier that can be unmasked", field=repr(field)
        )
    require(who, PII_FIELDS[field].permission)
    record = open_case(store, who, loan_id)
    log.record(
        audit(
            now,
            who,
            "pii.unmask",
            f"borrower:{record.borrower['borrower_id']}",
            field=field,
            loan=loan_id,
        )
    )
    value = record.borrower.get(field)
    return shown(who, field, None if value is None else str(value), unmasked=True)


def written_on_loan(terms: ContactTerms, product: str | None, text: str) -> LintedText | None:
    """A text written on a case of a loan of `product`, as it will be kept (its ends' spaces
    trimmed; None when nothing was written), with what the content rules of the loan's pack
    find in it: kept whatever they find."""
    return written(text, packs_of(terms.content, terms.jurisdictions, [product] if product else []))


@dataclass(frozen=True)
class NoteAdded:
    """A note stored on a case: its id, and its text as kept with the lint's findings."""

    note_id: int
    note: LintedText


def add_note(
    store: CaseStore, terms: ContactTerms, who: Principal, loan_id: str, text: str, now: datetime
) -> NoteAdded:
    """A note on the case, kept as written with what the content rules of the loan's pack
    find in it: never refused for them (a note records what happened; hiding it would hide
    evidence), the audit entry naming their rules for the compliance officer."""
    require(who, Permission.CONTACT_LOG)
    require_case(store, who, loan_id)
    note = written_on_loan(terms, store.product_of(loan_id), text)
    if note is None:
        raise Refusal("a note cannot be empty")
    entry = audit(now, who, "note.add", f"loan:{loan_id}", chars=len(note.text),
                  **audit_findings(note))  # fmt: skip
    note_id = store.add_note(loan_id, who.user_id, now, note.text, entry, findings_document(note))
    return NoteAdded(note_id, note)


def promise_to_pay(
    store: CaseStore,
    who: Principal,
    loan_id: str,
    amount: int,
    due_on: date,
    today: date,
    now: datetime,
    owed_on: Callable[[date, date], int],
) -> str:
    """Record a promise to pay (the end-of-day run judges it kept or broken); its id.
    `owed_on(day, since)`: what the loan owes in all at the end of `day` with only the
    payments dated before `since` counted (App.owed_in_all), asked only of a due day within
    the promise's terms: the money paid from today on counts towards the promise."""
    require(who, Permission.CONTACT_LOG)
    require_case(store, who, loan_id)
    refuse_promise_terms(amount, due_on, today)
    refuse_promise_amount(amount, due_on, today, owed_on(due_on, today))
    # Random, not from the loan and the instant: two promises in one microsecond (or a loan
    # id of 64 characters, the column's width) must not collide or overflow.
    promise_id = f"P-{uuid4().hex}"
    store.add_promise(
        {
            "promise_id": promise_id,
            "loan_id": loan_id,
            "amount": amount,
            "made_on": today,
            "due_on": due_on,
        },
        audit(
            now,
            who,
            "promise.add",
            f"loan:{loan_id}",
            promise=promise_id,
            amount=amount,
            due_on=due_on.isoformat(),
        ),
    )
    return promise_id


@dataclass(frozen=True)
class ProposalOutcome:
    """A stored proposal: approved within the proposer's limits, or pending approval."""

    proposal_id: int
    status: str
    why: str


def propose(
    store: CaseStore,
    who: Principal,
    loan_id: str,
    proposal: Proposal,
    terms: Mapping[str, Any],
    now: datetime,
    today: date,
) -> ProposalOutcome:
    """Store a plan, extension or settlement: approved at once inside the proposer's limits,
    else pending a supervisor's (or an administrator's) approval; approved, it changes the
    loan's schedule from `today` (the desk's day: an extension from then on moves its due
    dates, domain/revisions.py)."""
    require(who, Permission.PROPOSE)
    require_case(store, who, loan_id)
    proposer = Proposer(who.user_id, who.user_id, LIMITS.get(who.role))
    return propose_as(store, proposer, loan_id, proposal, terms, now, today)


_TRIES = 5  # limits checked again while extensions are approved on the case meanwhile


def _counting_extensions(
    store: CaseStore, loan_id: str, attempt: Callable[[int], _Result], given_up: Refusal
) -> _Result:
    """`attempt` with the days of extensions approved on the case so far, made again while
    extensions are approved meanwhile (ExtensionsChanged: its limit is checked again,
    counting them); `given_up` raised after _TRIES."""
    for _ in range(_TRIES):
        try:
            return attempt(_extended(store, loan_id))
        except ExtensionsChanged:
            continue
    raise given_up


@dataclass(frozen=True)
class Proposer:
    """Who proposes (a user id, or the portal's borrower), who grants it at once when it is
    within `limits` (the proposer themselves, or the lender's self-service policy)."""

    by: str
    granter: str
    limits: Limits | None
    # Refused while another proposal on the case waits, or when they made one on it since
    # this instant (a borrower: one request a day on a loan; None: no such rule).
    alone_since: datetime | None = None


def propose_as(
    store: CaseStore, proposer: Proposer, loan_id: str, proposal: Proposal,
    terms: Mapping[str, Any], now: datetime, today: date,
) -> ProposalOutcome:  # fmt: skip
    """Store a proposal of `proposer` (a user the caller checked, or the case's own borrower):
    approved at once within the proposer's limits, else pending."""
    return _counting_extensions(
        store, loan_id,
        lambda extended: _propose(store, proposer, loan_id, proposal, terms, now, today,
                                  extended),
        Refusal("extensions on {loan_id} kept being approved meanwhile: propose again",
                loan_id=repr(loan_id)),
    )  # fmt: skip


def _propose(
    store: CaseStore, proposer: Proposer, loan_id: str, proposal: Proposal,
    terms: Mapping[str, Any], now: datetime, today: date, extended: int,
) -> ProposalOutcome:  # fmt: skip
    """propose, with the days of extensions approved on the case so far (`extended`, checked
    again as it is stored when it is an extension approved at once)."""
    proposal.refuse_deadline(today)  # approved at once, it takes effect today
    inside = within(proposer.limits, proposal, extended)
    status = "approved" if inside else "pending"
    why = ("within " if inside else "beyond ") + limit_text(proposer.limits, proposal.kind)
    terms = {**terms, "overdue": proposal.overdue}
    if proposal.kind is ProposalKind.SETTLEMENT:  # what its waiver was measured against
        terms["owed"] = proposal.owing
    row = {
        "loan_id": loan_id,
        "kind": proposal.kind.value,
        "terms": terms,
        "waived": proposal.waived,
        "status": status,
        "proposed_by": proposer.by,
        "proposed_at": now,
        "decided_by": proposer.granter if inside else None,
        "decided_at": now if inside else None,
        "decision_note": why if inside else None,
        "effective_on": today if inside else None,
    }
    proposal_id = store.add_proposal(
        row,
        AuditEntry(
            now.astimezone(UTC),
            proposer.by,
            "proposal.add",
            f"loan:{loan_id}",
            {
                "kind": proposal.kind.value,
                "status": status,
                "waived": proposal.waived,
                "terms": dict(terms),
            },
        ),
        extended if inside and proposal.kind is ProposalKind.EXTENSION else None,
        alone_since=proposer.alone_since,
    )
    return ProposalOutcome(proposal_id, status, why)


def _extended(store: CaseStore, loan_id: str) -> int:
    """The days of the extensions approved on the case so far."""
    record = store.case(loan_id)
    assert record is not None, "the case was found in scope"
    granted = [p for p in record.proposals if p["status"] == "approved"]
    return sum(int(p["terms"].get("days", 0)) for p in granted if p["kind"] == "extension")


@dataclass(frozen=True)
class Decision:
    """A proposal or a field visit decided: its status, and the approver's note as kept with
    the content lint's findings (None: no note)."""

    status: str
    note: LintedText | None


def decide(
    store: CaseStore,
    terms: ContactTerms,
    who: Principal,
    proposal_id: int,
    approve: bool,
    note: str,
    now: datetime,
    today: date,
    owed_on: Callable[[str], int],
) -> Decision:
    """Approve or reject a pending proposal, within the approver's own limits. Approved, it
    changes the loan's schedule from `today` (the desk's day); a settlement is measured again
    against what the loan owes in all that day (`owed_on`, as owed_of): penalty and lines
    fallen due since it was proposed count. The approver's note is kept as written with what
    the content rules of the loan's pack find in it (never refused for that, the audit entry
    naming their rules)."""
    require(who, Permission.APPROVE)
    found = store.proposal(proposal_id)
    if found is None or not store.visible(scope_of(who), found["loan_id"]):
        raise CaseNotFound("proposal {proposal_id} not found", proposal_id=str(proposal_id))
    if found["status"] != "pending":
        raise Refusal(
            "proposal {proposal_id} is already {status}",
            proposal_id=str(proposal_id),
            status=Term(f"status:{found['status']}", str(found["status"])),
        )
    if found["proposed_by"] == who.user_id:
        raise Forbidden("a proposal is approved by someone other than who proposed it")
    kept = written_on_loan(terms, store.product_of(found["loan_id"]), note)
    if approve and who.role in APPROVERS:
        offered = found["terms"]
        offer = Proposal(
            ProposalKind(found["kind"]),
            int(offered["overdue"]),
            months=int(offered.get("months", 0)),
            days=int(offered.get("days", 0)),
            pay=int(offered.get("pay", 0)),
            by=date.fromisoformat(offered["by"]) if offered.get("by") else None,
            owed=(owed_on(found["loan_id"]) if found["kind"] == ProposalKind.SETTLEMENT.value
                  else int(offered.get("owed", 0))),
        )  # fmt: skip
        offer.refuse_deadline(today)  # approved now, it takes effect today

        def approved(extended: int) -> Decision:
            if not within_limits(who.role, offer, extended):
                raise Forbidden(
                    "beyond your approval limit ({limit}): an administrator approves it",
                    limit=limit_words(who.role, offer.kind),
                )
            counted = extended if offer.kind is ProposalKind.EXTENSION else None
            return _decided(store, who, found, approve, kept, now, counted, today)

        given_up = Refusal(
            "extensions on {loan_id} kept being approved meanwhile", loan_id=repr(found["loan_id"])
        )
        return _counting_extensions(store, found["loan_id"], approved, given_up)
    return _decided(store, who, found, approve, kept, now, None, today)


def _decided(
    store: CaseStore, who: Principal, found: Mapping[str, Any], approve: bool,
    note: LintedText | None, now: datetime, extended: int | None, today: date,
) -> Decision:  # fmt: skip
    """decide's write: the proposal `found` approved or rejected with the approver's note as
    kept (`extended`: the days of extensions approved on the case its limit was checked
    with, checked again as it is; approved, effective from `today`)."""
    proposal_id = found["proposal_id"]
    status = "approved" if approve else "rejected"
    text = note.text if note else ""
    changed = store.decide_proposal(
        proposal_id,
        status,
        who.user_id,
        now,
        text,
        audit(
            now,
            who,
            f"proposal.{'approve' if approve else 'reject'}",
            f"loan:{found['loan_id']}",
            proposal=proposal_id,
            note=text,
            **audit_findings(note),
        ),
        extended,
        today if approve else None,
        findings_document(note),
    )
    if not changed:
        raise Refusal("proposal {proposal_id} was decided meanwhile", proposal_id=str(proposal_id))
    return Decision(status, note)


def pending_approvals(store: CaseStore, who: Principal) -> list[Mapping[str, Any]]:
    """Proposals waiting for the principal's decision (their scope's, not their own)."""
    require(who, Permission.APPROVE)
    return [p for p in store.pending_proposals(scope_of(who)) if p["proposed_by"] != who.user_id]


def overdue_of(store: CaseStore, who: Principal, loan_id: str) -> int:
    """What the case owes past due as of the last run (minor units)."""
    return overdue_in(open_case(store, who, loan_id))


def overdue_in(record: CaseRecord) -> int:
    """What a case file owes past due as of the last run (minor units)."""
    state = record.state
    if state is None:
        return 0
    parts = ("overdue_principal", "overdue_interest", "overdue_penalty", "overdue_fees")
    return sum(int(state[p]) for p in parts)


def owed_of(store: CaseStore, who: Principal, loan_id: str, owed_on: Callable[[str], int]) -> int:
    """What the case owes in all (minor units), `owed_on` the desk's day (a loan's
    LoanState.owed_in_all then): its principal and the interest and fees of every instalment,
    due or not, and the penalty posted, less its credit. A settlement waives all of it but its
    lump sum, the instalments not yet due too (MONEY_RULES.md, "Settlements"): measured on the
    last run's outstanding principal and arrears, a collector's 10 % waived 15 % (helper-124)."""
    open_case(store, who, loan_id)  # in the scope, else not found
    return owed_on(loan_id)


def require_audit(who: Principal) -> None:
    """Refuse unless the principal may read the audit log."""
    require(who, Permission.AUDIT_VIEW)


def verify_log(log: AuditLog, who: Principal, anchor: tuple[int, str] | None = None) -> ChainCheck:
    """Verify the whole audit chain against the log's head, read before the entries and again
    after: an entry past the second was not appended through the log (`append_audit` moves
    the head with every entry), however well it is chained. `anchor`: an entry's sequence
    number and hash as a verification gave them earlier, kept outside the database: whoever
    holds the database can rewrite the log and work its hashes out again, not that anchor."""
    require_audit(who)
    head = log.head()
    with closing(log.chain()) as entries:  # closed as soon as the check stops, not when freed
        check = verify_chain(entries, head, anchor)
    after = log.head()
    if check.intact and check.last_seq > after[0]:
        problem = (f"entry {after[0] + 1} lies past the log's head ({after[0]}): it was not "
                   f"appended through the log")  # fmt: skip
        return ChainCheck(check.entries, after[0] + 1, problem, check.last_seq, check.last_hash)
    return check


def audit_entries(
    log: AuditLog, who: Principal, subject: str | None, limit: int
) -> list[ChainedEntry]:
    """The newest audit entries, optionally of one subject (compliance reads the log)."""
    require_audit(who)
    return log.entries(subject=subject, limit=limit)


def export_audit(log: AuditLog, who: Principal, now: datetime, form: str) -> Iterator[ChainedEntry]:
    """Every entry of the audit log, oldest first, for compliance to take away; the export
    itself is recorded first (so it is in what it exports)."""
    require_audit(who)
    log.record(audit(now, who, "audit.export", "audit", format=form))
    return log.chain()

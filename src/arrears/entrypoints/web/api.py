"""The JSON API, versioned under /api/v1 (OpenAPI at /api/v1/openapi.json): tokens, who am
I, the queue, the case file and the desk's actions on a case."""

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, BeforeValidator, Field

from arrears.domain.access import PERMISSIONS, scope_of
from arrears.domain.approvals import Proposal, ProposalKind, refuse_foreign_terms
from arrears.domain.contact import Hold
from arrears.domain.money import format_amount, parse_amount
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.web.api_common import (
    Amount,
    Count,
    Day,
    Flag,
    Id,
    Instant,
    Strict,
    api_router,
)
from arrears.entrypoints.web.auth import Application, CurrentActor, client_of
from arrears.entrypoints.web.views import case_document, check_filters, owed_in_all_on
from arrears.services import casework, desk_contact
from arrears.services.casework_ports import QueueFilter
from arrears.services.contact_check import reason_document
from arrears.services.content_check import NOTE_MAX, finding_document, findings_list
from arrears.services.identity import (
    authenticate,
    issue_token,
)

router = api_router("cases")


def _trimmed(value: object) -> object:
    """A user id as a sign-in takes it: spaces around it dropped, as the log-in form does
    (CASEWORK.md; helper-112: the API refused "Col-East-1 " by its id pattern)."""
    return value.strip() if isinstance(value, str) else value


class TokenRequest(Strict):
    user_id: Annotated[Id, BeforeValidator(_trimmed)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    days: Annotated[Count, Field(ge=1, le=90)] = 30


class TokenIssued(BaseModel):
    token: str
    user_id: str
    role: str


class ContactIn(Strict):
    channel: Literal["sms", "call", "email", "letter"]  # a field visit has its own workflow
    outcome: Annotated[str, Field(min_length=1, max_length=16)]
    contact_id: Id | None = None
    at: Instant | None = None  # default: now; must be aware
    # What was said or happened: kept as written, with the content lint's findings.
    note: Annotated[str, Field(max_length=NOTE_MAX)] = ""


class PromiseIn(Strict):
    amount: Amount
    due_on: Day


class NoteIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=NOTE_MAX)]


class ProposalIn(Strict):
    kind: Literal["plan", "extension", "settlement"]
    months: Annotated[Count, Field(ge=0, le=36)] = 0
    days: Annotated[Count, Field(ge=0, le=180)] = 0
    pay: Amount | None = None
    by: Day | None = None  # a settlement's deadline: the last day its lump sum may be paid


class DecisionIn(Strict):
    approve: Flag
    note: Annotated[str, Field(max_length=500)] = ""


class UnmaskIn(Strict):
    field: Literal["phone", "national_id", "address", "email"]


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def create_token(body: TokenRequest, request: Request, app: Application) -> TokenIssued:
    """Exchange a user name and password for a bearer token (throttled like the log-in)."""
    now = request.app.state.clock()
    client = client_of(request)
    user = authenticate(app.identity, app.passwords, body.user_id, body.password, client, now)
    token = issue_token(app.identity, user, body.name, body.days, now)
    return TokenIssued(token=token, user_id=user.user_id, role=user.role.value)


@router.get("/me")
def me(actor: CurrentActor) -> dict[str, Any]:
    """Who the token or session belongs to, and what their role may do."""
    who = actor.principal
    scope = scope_of(who)
    return {
        "user_id": who.user_id,
        "display_name": actor.user.display_name,
        "role": who.role.value,
        "team_id": who.team_id,
        "agency_id": who.agency_id,
        "locale": actor.user.locale,
        "scope": scope.kind.value,
        "permissions": sorted(p.value for p in PERMISSIONS[who.role]),
    }


@router.get("/queue")
def queue(
    actor: CurrentActor,
    app: Application,
    # Checked against the ladders' stages and the products (check_filters), not a pattern: a
    # ladder's stage may be named `watch-list` (helper-65), a product code `cn.cash/2`.
    stage: Annotated[str | None, Query(max_length=32)] = None,
    bucket: Annotated[str | None, Query(pattern=r"^M[0-7]\+?$")] = None,
    product: Annotated[str | None, Query(max_length=64)] = None,
    mine: bool = False,
    unassigned: bool = False,
) -> dict[str, Any]:
    """The caller's work queue, highest priority first, with each case's priority points."""
    check_filters(app, stage, bucket, product)
    which = QueueFilter(stage, bucket, product, actor.user.user_id if mine else None, unassigned)
    items = casework.work_queue(app.desk, actor.principal, which, app.settings.queue_scale)
    return {
        "cases": [
            {
                "loan_id": i.row.loan_id,
                "borrower_id": i.row.borrower_id,
                "borrower_name": i.row.borrower_name,
                "product": i.row.product,
                "dpd": i.row.dpd,
                "bucket": i.row.bucket,
                "stage": i.row.stage,
                "overdue": format_amount(i.row.overdue_minor),
                "currency": i.row.currency,
                "broken_promises": i.row.broken_promises,
                "team_id": i.row.team_id,
                "collector_id": i.row.collector_id,
                "agency_id": i.row.agency_id,
                "priority": i.priority.total,
                "priority_parts": {
                    "amount": i.priority.amount,
                    "dpd": i.priority.dpd,
                    "promises": i.priority.promises,
                    "score": i.priority.score,
                },
            }
            for i in items
        ],
        # The currency the priorities weigh amounts in, and those weighed one to one for want
        # of a rate (settings [queue.rates]).
        "priority_currency": app.settings.queue_scale.reference,
        "unweighed_currencies": casework.unweighed(items, app.settings.queue_scale),
    }


@router.get("/cases/{loan_id}")
def case(loan_id: Id, actor: CurrentActor, app: Application, request: Request) -> dict[str, Any]:
    """The case file: borrower (masked), loan, stage and why, itemised balance with the
    reason for every amount, contacts, promises, notes, proposals, holds."""
    return case_document(app, actor.principal, loan_id, request.app.state.clock())


@router.post("/cases/{loan_id}/unmask")
def unmask(
    loan_id: Id, body: UnmaskIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """One identifier of the borrower in clear (an audited act)."""
    value = casework.unmask(
        app.desk, app.audit_log, actor.principal, loan_id, body.field, request.app.state.clock()
    )
    return {"field": body.field, "value": value}


@router.get("/cases/{loan_id}/may-contact")
def may_contact(
    loan_id: Id, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Per channel: may the borrower be contacted now, with every rule's reason."""
    now = request.app.state.clock()
    answers = desk_contact.may_contact_now(
        app.desk, app.contacts, app.contact_terms, actor.principal, loan_id, now
    )
    return {
        "at": now.isoformat(),
        "channels": [
            {
                "channel": a.channel,
                "allowed": a.decision.allowed,
                "reasons": [reason_document(r) for r in a.decision.reasons],
            }
            for a in answers
        ],
    }


@router.post("/cases/{loan_id}/contacts", status_code=201)
def log_contact(
    loan_id: Id, body: ContactIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Log a contact attempt that happened, with the rules' decision at its instant (every
    rule's reason). One that broke a rule is recorded all the same (a fact the caps count),
    flagged: `allowed` false, its broken rules' `passed` false; the dashboard counts it.
    Ask `may-contact` before dialling. The note, a flagged contact's too, is kept as written
    with what the content lint finds in it (`note_findings`)."""
    now = request.app.state.clock()
    stored = desk_contact.log_desk_contact(
        app.desk,
        app.contacts,
        app.audit_log,
        app.contact_terms,
        actor.principal,
        loan_id,
        (body.channel, body.at or now, body.contact_id),
        body.outcome,
        now,
        body.note,
    )
    return {
        "attempt_id": stored.attempt_id,
        "allowed": stored.decision.allowed,
        "reasons": [reason_document(r) for r in stored.decision.reasons],
        "note_findings": [finding_document(f) for f in stored.note.findings] if stored.note else [],
    }


@router.post("/cases/{loan_id}/promises", status_code=201)
def promise(
    loan_id: Id, body: PromiseIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Record a promise to pay; the end-of-day run judges it kept or broken."""
    now = request.app.state.clock()
    promise_id = casework.promise_to_pay(
        app.desk,
        actor.principal,
        loan_id,
        parse_amount(body.amount),
        body.due_on,
        desk_day(now),
        now,
        partial(app.owed_in_all, loan_id),
    )
    return {"promise_id": promise_id}


@router.post("/cases/{loan_id}/notes", status_code=201)
def note(
    loan_id: Id, body: NoteIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Add a note to the case: kept as written, with what the content lint finds in it
    (`findings`; never refused for them)."""
    added = casework.add_note(
        app.desk, app.contact_terms, actor.principal, loan_id, body.text, request.app.state.clock()
    )
    return {
        "note_id": added.note_id,
        "findings": [finding_document(f) for f in added.note.findings],
    }


@router.post("/cases/{loan_id}/proposals", status_code=201)
def proposal(
    loan_id: Id, body: ProposalIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Propose a repayment plan, an extension or a settlement: approved at once within the
    proposer's limits, else pending approval."""
    now = request.app.state.clock()
    overdue = casework.overdue_of(app.desk, actor.principal, loan_id)
    owed = casework.owed_of(app.desk, actor.principal, loan_id,
                            partial(owed_in_all_on, app, desk_day(now)))  # fmt: skip
    kind = ProposalKind(body.kind)
    refuse_foreign_terms(kind, body.model_fields_set)
    pay = parse_amount(body.pay) if body.pay is not None else 0
    offer = Proposal(kind, overdue, body.months, body.days, pay, body.by, owed)
    outcome = casework.propose(
        app.desk, actor.principal, loan_id, offer, offer.terms, now, desk_day(now)
    )
    return {"proposal_id": outcome.proposal_id, "status": outcome.status, "why": outcome.why}


class HoldIn(Strict):
    kind: Literal["dispute", "hardship", "deceased", "cease_contact"]
    starts_on: Day
    ends_on: Day | None = None
    note: Annotated[str, Field(max_length=500)] = ""


@router.post("/cases/{loan_id}/holds", status_code=201)
def place_hold(
    loan_id: Id, body: HoldIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Pause collection of the case's borrower (dispute, hardship, deceased, cease contact);
    its note kept as written with what the content lint finds in it (`note_findings`)."""
    casework.require_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    hold = Hold(body.kind, body.starts_on, body.ends_on, body.note)
    now = request.app.state.clock()
    note = desk_contact.place_case_hold(
        app.desk, app.contacts, app.contact_terms, actor.principal, loan_id, hold,
        desk_day(now), now,
    )  # fmt: skip
    return {"loan_id": loan_id, "kind": body.kind, "note_findings": findings_list(note)}

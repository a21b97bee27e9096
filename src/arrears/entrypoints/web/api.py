"""The JSON API, versioned under /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from arrears.bootstrap import App
from arrears.domain.access import PERMISSIONS, Role, scope_of
from arrears.domain.approvals import Proposal, ProposalKind
from arrears.domain.audit_chain import verify_chain
from arrears.domain.contact import ContactRequest, Hold
from arrears.domain.errors import DomainError
from arrears.domain.field_visits import VisitReport, VisitRequest
from arrears.domain.legal_track import LegalStep
from arrears.domain.money import format_amount, parse_amount
from arrears.entrypoints.web.audit_export import audit_lines
from arrears.entrypoints.web.auth import Application, CurrentActor
from arrears.entrypoints.web.views import case_document, desk_day
from arrears.services import assignment, casework, desk_contact, field_visit, legal
from arrears.services.casework_ports import QueueFilter, UserRecord
from arrears.services.contact_check import reason_document
from arrears.services.dashboard import dashboard
from arrears.services.identity import (
    create_user,
    issue_token,
    list_users,
    set_user_active,
    sign_in,
)


class ErrorOut(BaseModel):
    """Every refusal: what is wrong, in words; with the rules or the fields when there are."""

    error: str
    problems: list[dict[str, str]] | None = None  # 422: each invalid field and why
    reasons: list[dict[str, Any]] | None = None  # 409: every rule of a blocked contact


REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "a body that cannot be read (not JSON)"),
        (401, "not signed in, or a wrong user name or password"),
        (403, "the role may not do this"),
        (404, "no such case in the caller's scope"),
        (409, "the contact rules forbid this contact now"),
        (422, "invalid input, or a rule of the domain refuses it"),
        (429, "too many failed log-ins"),
    )
}


def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not know is an error, not ignored (a misspelt
    filter would otherwise return the whole queue)."""
    route = request.scope.get("route")
    known = {p.alias for p in route.dependant.query_params} if route is not None else set()
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise DomainError(
            f"unknown query parameter(s): {', '.join(unknown)}"
            + (f"; this route takes {', '.join(sorted(known))}" if known else "")
        )


router = APIRouter(
    prefix="/api/v1", tags=["api"], responses=REFUSALS,
    dependencies=[Depends(refuse_unknown_query)],
)  # fmt: skip

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Amount = Annotated[str, Field(pattern=r"^\d{1,13}(\.\d{1,2})?$", examples=["1062.34"])]


class Strict(BaseModel):
    """Request bodies refuse fields they do not know (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    user_id: Id
    password: Annotated[str, Field(min_length=1, max_length=256)]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    days: Annotated[int, Field(ge=1, le=90)] = 30


class TokenIssued(BaseModel):
    token: str
    user_id: str
    role: str


class ContactIn(Strict):
    channel: Literal["sms", "call", "email", "letter"]  # a field visit has its own workflow
    outcome: Annotated[str, Field(min_length=1, max_length=16)]
    contact_id: Id | None = None
    at: datetime | None = None  # default: now; must be aware


class PromiseIn(Strict):
    amount: Amount
    due_on: date


class NoteIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class ProposalIn(Strict):
    kind: Literal["plan", "extension", "settlement"]
    months: Annotated[int, Field(ge=0, le=36)] = 0
    days: Annotated[int, Field(ge=0, le=180)] = 0
    pay: Amount | None = None


class DecisionIn(Strict):
    approve: bool
    note: Annotated[str, Field(max_length=500)] = ""


class UnmaskIn(Strict):
    field: Literal["phone", "national_id", "address"]


def check_filters(app: App, stage: str | None, product: str | None) -> None:
    """A stage or product no ladder or setting knows is an error naming the known ones."""
    stages = {s.name for ladder in app.ladders.values() for s in ladder.stages}
    stages |= {ladder.default_stage for ladder in app.ladders.values()}
    if stage is not None and stage not in stages:
        raise DomainError(f"unknown stage {stage!r}; the ladders have {', '.join(sorted(stages))}")
    if product is not None and product not in app.settings.products:
        known = ", ".join(sorted(app.settings.products))
        raise DomainError(f"unknown product {product!r}; the products are {known}")


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def create_token(body: TokenRequest, request: Request, app: Application) -> TokenIssued:
    """Exchange a user name and password for a bearer token (throttled like the log-in)."""
    now = request.app.state.clock()
    client = request.client.host if request.client else "unknown"
    grant = sign_in(app.identity, app.passwords, body.user_id, body.password, client, now)
    token = issue_token(app.identity, grant.user, body.name, body.days, now)
    return TokenIssued(token=token, user_id=grant.user.user_id, role=grant.user.role.value)


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
    stage: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")] = None,
    bucket: Annotated[str | None, Query(pattern=r"^M[0-7]\+?$")] = None,
    product: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] = None,
    mine: bool = False,
    unassigned: bool = False,
) -> dict[str, Any]:
    """The caller's work queue, highest priority first, with each case's priority points."""
    check_filters(app, stage, product)
    which = QueueFilter(stage, bucket, product, actor.user.user_id if mine else None, unassigned)
    items = casework.work_queue(app.desk, actor.principal, which)
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
        ]
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
    """Log a contact attempt: the rules are asked first; a forbidden contact is refused
    (409, with the rules) and nothing is recorded but the refusal in the audit log."""
    now = request.app.state.clock()
    record = casework.open_case(app.desk, actor.principal, loan_id)
    borrower = record.borrower["borrower_id"]
    request_ = ContactRequest(borrower, body.channel, body.at or now, contact_id=body.contact_id)
    stored = desk_contact.log_desk_contact(
        app.desk,
        app.contacts,
        app.audit_log,
        app.contact_terms,
        actor.principal,
        loan_id,
        request_,
        body.outcome,
        now,
    )
    return {
        "attempt_id": stored.attempt_id,
        "allowed": stored.decision.allowed,
        "reasons": [reason_document(r) for r in stored.decision.reasons],
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
    )
    return {"promise_id": promise_id}


@router.post("/cases/{loan_id}/notes", status_code=201)
def note(
    loan_id: Id, body: NoteIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Add a note to the case."""
    note_id = casework.add_note(
        app.desk, actor.principal, loan_id, body.text, request.app.state.clock()
    )
    return {"note_id": note_id}


@router.post("/cases/{loan_id}/proposals", status_code=201)
def proposal(
    loan_id: Id, body: ProposalIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Propose a repayment plan, an extension or a settlement: approved at once within the
    proposer's limits, else pending approval."""
    now = request.app.state.clock()
    overdue = casework.overdue_of(app.desk, actor.principal, loan_id)
    pay = parse_amount(body.pay) if body.pay is not None else 0
    offer = Proposal(ProposalKind(body.kind), overdue, body.months, body.days, pay)
    terms = {"months": body.months, "days": body.days, "pay": pay}
    outcome = casework.propose(app.desk, actor.principal, loan_id, offer, terms, now)
    return {"proposal_id": outcome.proposal_id, "status": outcome.status, "why": outcome.why}


@router.get("/approvals")
def approvals(actor: CurrentActor, app: Application) -> dict[str, Any]:
    """Proposals waiting for the caller's decision."""
    pending = casework.pending_approvals(app.desk, actor.principal)
    return {
        "pending": [
            {
                **{k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in p.items()},
                "waived": format_amount(p["waived"]),
            }
            for p in pending
        ]
    }


@router.post("/approvals/{proposal_id}")
def decide(
    proposal_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
    body: DecisionIn,
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Approve or reject a pending proposal (within the approver's own limits)."""
    status = casework.decide(
        app.desk, actor.principal, proposal_id, body.approve, body.note, request.app.state.clock()
    )
    return {"proposal_id": proposal_id, "status": status}


@router.get("/dashboard")
def dashboard_figures(actor: CurrentActor, app: Application, request: Request) -> dict[str, Any]:
    """The dashboard's figures for the caller's scope over the last 30 days."""
    board = dashboard(app.dashboards, actor.principal, desk_day(request.app.state.clock()))
    f = board.figures
    return {
        "since": board.since.isoformat(), "until": board.until.isoformat(),
        "buckets": {b: {"cases": n, "past_due": format_amount(t)}
                    for b, (n, t) in f.buckets.items()},
        "stages": dict(f.stages), "promises": dict(f.promises),
        "promise_kept_rate": None if board.kept_rate is None else str(round(board.kept_rate, 4)),
        "collected_by_collector": {c or "unassigned": format_amount(v)
                                   for c, v in f.collected_by_collector.items()},
        "collected_by_agency": {
            a: {"collected": format_amount(t), "commission_rate": rate,
                "commission": format_amount(board.commissions[a])}
            for a, (rate, t) in f.collected_by_agency.items()
        },
        "blocked_by_rule": dict(f.blocked_by_rule),
        "flow_rates": [
            {"month": r.month, "from": r.source, "to": r.target,
             "rate": None if r.rate is None else str(round(r.rate, 4))}
            for r in board.flows
        ],
    }  # fmt: skip


@router.get("/audit")
def audit(
    actor: CurrentActor,
    app: Application,
    subject: Annotated[
        str | None, Query(max_length=128, pattern=r"^[a-z_]+:[A-Za-z0-9_.:-]+$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The newest audit entries (compliance), optionally of one subject."""
    entries = casework.audit_entries(app.audit_log, actor.principal, subject, limit)
    return {
        "entries": [
            {
                "seq": e.seq,
                "at": e.entry.at.isoformat(),
                "actor": e.entry.actor,
                "action": e.entry.action,
                "subject": e.entry.subject,
                "detail": e.entry.detail,
                "hash": e.hash,
            }
            for e in entries
        ]
    }


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def audit_export(
    actor: CurrentActor,
    app: Application,
    request: Request,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
) -> StreamingResponse:
    """Every audit entry with its hashes, as JSON lines or CSV (the export is audited too)."""
    entries = casework.export_audit(
        app.audit_log, actor.principal, request.app.state.clock(), format
    )
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    name = f"arrears-audit.{format}"
    return StreamingResponse(
        audit_lines(entries, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/audit/verify")
def audit_verify(actor: CurrentActor, app: Application) -> dict[str, Any]:
    """Recompute the whole hash chain: intact, or the first entry that does not fit."""
    casework.require_audit(actor.principal)
    check = verify_chain(app.audit_log.chain())
    return {
        "entries": check.entries,
        "intact": check.intact,
        "broken_at": check.broken_at,
        "problem": check.problem,
    }


class AssignIn(Strict):
    team_id: Id
    collector_id: Id | None = None


class BalanceIn(Strict):
    teams: Annotated[list[Id], Field(min_length=1, max_length=50)]


class PlaceIn(Strict):
    agency_id: Id


@router.put("/cases/{loan_id}/assignment")
def assign(
    loan_id: Id, body: AssignIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Assign (or reassign) a case to a team and one of its collectors; no collector puts
    it back in the team's pool."""
    now = request.app.state.clock()
    assignment.assign_case(
        app.desk, actor.principal, loan_id, body.team_id, body.collector_id, desk_day(now), now
    )
    return {"loan_id": loan_id, "team_id": body.team_id, "collector_id": body.collector_id}


@router.post("/assignments/balance")
def balance(
    body: BalanceIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Give every case of the caller's scope not yet with a collector to the teams'
    collectors, highest priority first, evening out their loads."""
    now = request.app.state.clock()
    given = assignment.balance_queue(app.desk, actor.principal, body.teams, desk_day(now), now)
    return {"assigned": given}


@router.post("/cases/{loan_id}/placement", status_code=201)
def place(
    loan_id: Id, body: PlaceIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Place a case with an agency (its past-due balance and the agency's commission)."""
    now = request.app.state.clock()
    assignment.place_case(app.desk, actor.principal, loan_id, body.agency_id, desk_day(now), now)
    return {"loan_id": loan_id, "agency_id": body.agency_id}


@router.delete("/cases/{loan_id}/placement")
def recall(loan_id: Id, actor: CurrentActor, app: Application, request: Request) -> dict[str, Any]:
    """Recall a case from its agency."""
    now = request.app.state.clock()
    assignment.recall_case(app.desk, actor.principal, loan_id, desk_day(now), now)
    return {"loan_id": loan_id, "recalled": True}


class VisitIn(Strict):
    collectors: Annotated[list[Id], Field(min_length=2, max_length=4)]
    planned_on: date
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class VisitReportIn(Strict):
    visited_at: datetime
    outcome: Literal["connected", "no_answer", "refused"]
    recording: Annotated[str, Field(min_length=1, max_length=200)]
    identification_shown: bool
    entered_with_consent: bool | None = None
    note: Annotated[str, Field(max_length=1000)] = ""


class LegalStepIn(Strict):
    step: Literal["lawyers_letter", "filing", "preservation", "judgment", "enforcement", "closed"]
    on: date
    cost: Amount = "0.00"
    court: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    case_number: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    performance_due: date | None = None
    note: Annotated[str, Field(max_length=1000)] = ""


@router.post("/cases/{loan_id}/visits", status_code=201)
def request_visit(
    loan_id: Id, body: VisitIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Request a field visit: refused (409, with the missing steps) until the ladder's
    gentler steps are on record; then it waits for a supervisor."""
    casework.open_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
    wanted = VisitRequest(
        loan_id, actor.user.user_id, tuple(body.collectors), body.planned_on, body.reason
    )
    visit_id = field_visit.request_visit(
        app.desk, app.track, app.ladder_of, actor.principal, wanted, desk_day(now), now
    )
    return {"visit_id": visit_id, "status": "requested"}


@router.post("/visits/{visit_id}/decision")
def decide_visit(
    visit_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
    body: DecisionIn,
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Approve or reject a requested field visit."""
    status = field_visit.decide_visit(
        app.desk, app.track, actor.principal, visit_id, body.approve, request.app.state.clock()
    )
    return {"visit_id": visit_id, "status": status}


@router.post("/visits/{visit_id}/report")
def report_visit(
    visit_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
    body: VisitReportIn,
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Report an approved visit as made (by one of its collectors, with its recording)."""
    report = VisitReport(
        body.visited_at,
        body.outcome,
        body.recording,
        body.identification_shown,
        body.entered_with_consent,
        body.note,
    )
    field_visit.report_visit(
        app.desk,
        app.contacts,
        app.audit_log,
        app.contact_terms,
        app.track,
        actor.principal,
        visit_id,
        report,
        request.app.state.clock(),
    )
    return {"visit_id": visit_id, "status": "done"}


@router.post("/cases/{loan_id}/legal", status_code=201)
def legal_step(
    loan_id: Id, body: LegalStepIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Record the next step of the case's legal track (the first, a lawyer's letter, once
    the ladder's guard finds the notice sent and the agency tried)."""
    casework.open_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    step = LegalStep(
        body.step,
        body.on,
        parse_amount(body.cost),
        body.court,
        body.case_number,
        body.performance_due,
        body.note,
    )
    legal.add_legal_step(
        app.desk,
        app.track,
        app.ladder_of,
        actor.principal,
        loan_id,
        step,
        request.app.state.clock(),
    )
    return {"loan_id": loan_id, "step": body.step}


class HoldIn(Strict):
    kind: Literal["dispute", "hardship", "deceased", "cease_contact"]
    starts_on: date
    ends_on: date | None = None
    note: Annotated[str, Field(max_length=500)] = ""


@router.post("/cases/{loan_id}/holds", status_code=201)
def place_hold(
    loan_id: Id, body: HoldIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Pause collection of the case's borrower (dispute, hardship, deceased, cease contact)."""
    casework.open_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    hold = Hold(body.kind, body.starts_on, body.ends_on, body.note)
    desk_contact.place_case_hold(
        app.desk, app.contacts, actor.principal, loan_id, hold, request.app.state.clock()
    )
    return {"loan_id": loan_id, "kind": body.kind}


class UserIn(Strict):
    user_id: Id
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Literal[
        "admin", "strategy_manager", "supervisor", "collector", "compliance", "legal", "agency"
    ]
    password: Annotated[str, Field(min_length=10, max_length=256)]
    team_id: Id | None = None
    agency_id: Id | None = None
    locale: Literal["zh-CN", "zh-TW", "en"] = "zh-CN"


class ActiveIn(Strict):
    active: bool


def user_document(user: UserRecord) -> dict[str, Any]:
    """A user as the API shows it (never the password hash)."""
    return {
        "user_id": user.user_id,
        "display_name": user.display_name,
        "role": user.role.value,
        "team_id": user.team_id,
        "agency_id": user.agency_id,
        "locale": user.locale,
        "active": user.active,
    }


@router.get("/users")
def users(actor: CurrentActor, app: Application) -> dict[str, Any]:
    """Every user (administrators)."""
    return {"users": [user_document(u) for u in list_users(app.identity, actor.principal)]}


@router.post("/users", status_code=201)
def create(body: UserIn, actor: CurrentActor, app: Application, request: Request) -> dict[str, Any]:
    """Create a user with an argon2id-hashed password (administrators)."""
    record = UserRecord(
        body.user_id,
        body.display_name,
        Role(body.role),
        "",
        body.team_id,
        body.agency_id,
        body.locale,
    )
    made = create_user(
        app.identity,
        app.passwords,
        actor.principal,
        record,
        body.password,
        request.app.state.clock(),
    )
    return user_document(made)


@router.put("/users/{user_id}/active")
def activate(
    user_id: Id, body: ActiveIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Enable or disable a user (a disabled user's sessions and tokens stop at once)."""
    set_user_active(app.identity, actor.principal, user_id, body.active, request.app.state.clock())
    return {"user_id": user_id, "active": body.active}

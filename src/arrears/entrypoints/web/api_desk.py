"""The API of supervisors and officers: approvals, assignment and placement, field visits,
the legal track, borrowers' replies to texts."""

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Request
from pydantic import Field

from arrears.domain.field_visits import VisitReport, VisitRequest
from arrears.domain.legal_track import LegalStep
from arrears.domain.money import parse_amount
from arrears.domain.replies import REPLY_STATES
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.presenters import reply_document, reply_documents
from arrears.entrypoints.web.api import DecisionIn
from arrears.entrypoints.web.api_common import (
    Amount,
    Day,
    Flag,
    Id,
    Instant,
    Strict,
    api_router,
)
from arrears.entrypoints.web.auth import Application, CurrentActor
from arrears.entrypoints.web.views import owed_in_all_on, proposal_document
from arrears.services import assignment, casework, field_visit, legal
from arrears.services.content_check import NOTE_MAX, findings_list
from arrears.services.replies import read_as, replies_for

router = api_router("desk")


@router.get("/approvals")
def approvals(actor: CurrentActor, app: Application) -> dict[str, Any]:
    """Proposals waiting for the caller's decision."""
    pending = casework.pending_approvals(app.desk, actor.principal)
    return {"pending": [proposal_document(p) for p in pending]}


@router.post("/approvals/{proposal_id}")
def decide(
    proposal_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
    body: DecisionIn,
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Approve or reject a pending proposal (within the approver's own limits); the note kept
    as written with what the content lint finds in it (`note_findings`)."""
    now = request.app.state.clock()
    decided = casework.decide(
        app.desk, app.contact_terms, actor.principal, proposal_id, body.approve, body.note, now,
        desk_day(now), partial(owed_in_all_on, app, desk_day(now)),
    )  # fmt: skip
    return {"proposal_id": proposal_id, "status": decided.status,
            "note_findings": findings_list(decided.note)}  # fmt: skip


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
    given = assignment.balance_queue(
        app.desk, actor.principal, body.teams, desk_day(now), now, app.settings.queue_scale
    )
    return {"assigned": given}


@router.post("/cases/{loan_id}/placement", status_code=201)
def place(
    loan_id: Id, body: PlaceIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Place a case with an agency (its past-due balance and the agency's commission)."""
    now = request.app.state.clock()
    assignment.place_case(
        app.desk, app.track, app.step_terms, actor.principal, loan_id, body.agency_id,
        desk_day(now), now,
    )  # fmt: skip
    return {"loan_id": loan_id, "agency_id": body.agency_id}


@router.delete("/cases/{loan_id}/placement")
def recall(loan_id: Id, actor: CurrentActor, app: Application, request: Request) -> dict[str, Any]:
    """Recall a case from its agency."""
    now = request.app.state.clock()
    assignment.recall_case(app.desk, actor.principal, loan_id, desk_day(now), now)
    return {"loan_id": loan_id, "recalled": True}


class VisitIn(Strict):
    collectors: Annotated[list[Id], Field(min_length=2, max_length=4)]
    planned_on: Day
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class VisitReportIn(Strict):
    visited_at: Instant
    outcome: Literal["connected", "no_answer", "refused"]
    recording: Annotated[str, Field(min_length=1, max_length=200)]
    identification_shown: Flag
    entered_with_consent: Flag | None = None
    note: Annotated[str, Field(max_length=NOTE_MAX)] = ""


class LegalStepIn(Strict):
    step: Literal["lawyers_letter", "filing", "preservation", "judgment", "enforcement", "closed"]
    on: Day  # as JSON writes a day: not a number of seconds, nor a day with a time (helper-112)
    cost: Amount = "0.00"
    court: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    case_number: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    performance_due: Day | None = None
    note: Annotated[str, Field(max_length=1000)] = ""


class FlagIn(Strict):
    flag: Annotated[str, Field(min_length=1, max_length=16)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


@router.post("/cases/{loan_id}/visits", status_code=201)
def request_visit(
    loan_id: Id, body: VisitIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Request a field visit: refused (409, with the missing steps) until the ladder's
    gentler steps are on record; then it waits for a supervisor. The reason is kept as
    written with what the content lint finds in it (`reason_findings`)."""
    casework.require_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
    wanted = VisitRequest(
        loan_id, actor.user.user_id, tuple(body.collectors), body.planned_on, body.reason
    )
    asked = field_visit.request_visit(
        app.desk, app.track, app.step_terms, actor.principal, wanted, desk_day(now), now
    )
    return {"visit_id": asked.visit_id, "status": "requested",
            "reason_findings": findings_list(asked.reason)}  # fmt: skip


@router.post("/visits/{visit_id}/decision")
def decide_visit(
    visit_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
    body: DecisionIn,
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Approve or reject a requested field visit; the note kept as written with what the
    content lint finds in it (`note_findings`)."""
    now = request.app.state.clock()
    decided = field_visit.decide_visit(
        app.desk, app.track, app.step_terms, actor.principal, visit_id, body.approve,
        desk_day(now), now, body.note,
    )  # fmt: skip
    return {"visit_id": visit_id, "status": decided.status,
            "note_findings": findings_list(decided.note)}  # fmt: skip


@router.post("/visits/{visit_id}/report")
def report_visit(
    visit_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
    body: VisitReportIn,
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Report an approved visit as made (by one of its collectors, with its recording); its
    note kept with what the content lint finds in it (`note_findings`)."""
    report = VisitReport(
        body.visited_at,
        body.outcome,
        body.recording,
        body.identification_shown,
        body.entered_with_consent,
        body.note,
    )
    note = field_visit.report_visit(
        app.desk,
        app.contacts,
        app.audit_log,
        app.contact_terms,
        app.track,
        app.step_terms,
        actor.principal,
        visit_id,
        report,
        desk_day(report.visited_at),
        request.app.state.clock(),
    )
    return {"visit_id": visit_id, "status": "done", "note_findings": findings_list(note)}


@router.post("/cases/{loan_id}/legal", status_code=201)
def legal_step(
    loan_id: Id, body: LegalStepIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Record the next step of the case's legal track (the first, a lawyer's letter, once
    the ladder's guard finds the notice sent and the agency tried)."""
    casework.require_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
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
        app.audit_log,
        app.step_terms,
        actor.principal,
        loan_id,
        step,
        desk_day(now),
        now,
    )
    return {"loan_id": loan_id, "step": body.step}


@router.post("/cases/{loan_id}/flags", status_code=201)
def set_flag(
    loan_id: Id, body: FlagIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Set a flag on the case (`legal`: refer it to legal), with the reason; the next run's
    ladder reads it. The reason is kept as written with what the content lint finds in it
    (`reason_findings`)."""
    now = request.app.state.clock()
    why = legal.set_flag(app.desk, app.track, app.contact_terms, actor.principal, loan_id,
                         body.flag, body.reason, desk_day(now), now)  # fmt: skip
    return {"loan_id": loan_id, "flag": body.flag, "reason_findings": findings_list(why)}


@router.delete("/cases/{loan_id}/flags/{flag}")
def clear_flag(
    loan_id: Id,
    flag: Annotated[str, Field(min_length=1, max_length=16)],
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Clear a flag from the case (`legal`: withdraw the referral)."""
    legal.clear_flag(app.desk, app.track, actor.principal, loan_id, flag, request.app.state.clock())
    return {"loan_id": loan_id, "flag": flag, "cleared": True}


class ReplyIn(Strict):
    stop: Flag


@router.get("/replies")
def replies(
    actor: CurrentActor,
    app: Application,
    state: Literal["to_read", "opted_out", "read", "all"] = "to_read",
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Borrowers' replies to texts, oldest first (default: those waiting to be read), the
    numbers masked (CHANNELS.md, "Replies")."""
    states = REPLY_STATES if state == "all" else (state,)
    found = replies_for(app.replies, actor.principal, states, limit)
    return {"replies": reply_documents(app, found)}


@router.post("/replies/{reply_id}")
def read_reply(
    reply_id: Annotated[int, Field(ge=1, le=2**31 - 1)],
    body: ReplyIn,
    actor: CurrentActor,
    app: Application,
    request: Request,
) -> dict[str, Any]:
    """Record a reading of a reply waiting to be read: `stop` opts every borrower on its
    number out of texts from when it came; 409 when it is not waiting, or for `stop` when
    no borrower is on its number."""
    done = read_as(app.replies, actor.principal, reply_id, body.stop, request.app.state.clock())
    return reply_document(done)

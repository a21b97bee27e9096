"""Supervisors' and officers' pages: approvals, field visits, the legal track, assignment
and placement."""

from datetime import date
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from arrears.domain.field_visits import VisitReport, VisitRequest
from arrears.domain.legal_track import LegalStep
from arrears.domain.money import parse_amount
from arrears.entrypoints.desk_calendar import desk_day, desk_zone
from arrears.entrypoints.web.api_common import DeskInstant
from arrears.entrypoints.web.auth import Application, CurrentActor
from arrears.entrypoints.web.page_render import AMOUNT_PATTERN, render
from arrears.entrypoints.web.views import owed_in_all_on
from arrears.services import assignment, casework, field_visit, legal
from arrears.services.content_check import NOTE_MAX

router = APIRouter(include_in_schema=False)
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # a row number the database can hold


@router.get("/approvals")
def approvals_page(request: Request, actor: CurrentActor, app: Application) -> Response:
    """Proposals waiting for the signed-in approver."""
    pending = casework.pending_approvals(app.desk, actor.principal)
    return render(request, "approvals.html", actor, pending=pending)


@router.post("/approvals/{proposal_id}")
def decide(
    request: Request,
    proposal_id: RowId,
    actor: CurrentActor,
    app: Application,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Approve or reject a proposal; the note kept with what the content lint finds in it
    shown beside."""
    now = request.app.state.clock()
    decided = casework.decide(
        app.desk, app.contact_terms, actor.principal, proposal_id, decision == "approve", note,
        now, desk_day(now), partial(owed_in_all_on, app, desk_day(now)),
    )  # fmt: skip
    return render(request, "fragments/decided.html", actor, status=decided.status,
                  key=proposal_id, note=decided.note)  # fmt: skip


@router.post("/cases/{loan_id}/visits")
def visit_request(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    second: Annotated[str, Form(max_length=64)],
    planned_on: Annotated[date, Form()],
    reason: Annotated[str, Form(max_length=500)],
) -> Response:
    """Request a field visit with a colleague; its reason kept with what the content lint
    finds in it shown beside."""
    casework.require_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
    wanted = VisitRequest(
        loan_id, actor.user.user_id, (actor.user.user_id, second), planned_on, reason
    )
    asked = field_visit.request_visit(
        app.desk, app.track, app.step_terms, actor.principal, wanted, desk_day(now), now
    )
    return render(request, "fragments/done.html", actor, what="visit", key=str(asked.visit_id),
                  note=asked.reason)  # fmt: skip


@router.post("/visits/{visit_id}/decision")
def visit_decision(
    request: Request,
    visit_id: RowId,
    actor: CurrentActor,
    app: Application,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Approve or reject a field visit; the note kept with what the content lint finds in it
    shown beside."""
    now = request.app.state.clock()
    decided = field_visit.decide_visit(
        app.desk, app.track, app.step_terms, actor.principal, visit_id, decision == "approve",
        desk_day(now), now, note,
    )  # fmt: skip
    return render(request, "fragments/decided.html", actor, status=decided.status,
                  key=visit_id, note=decided.note)  # fmt: skip


@router.post("/visits/{visit_id}/report")
def visit_report(
    request: Request,
    visit_id: RowId,
    actor: CurrentActor,
    app: Application,
    visited_at: Annotated[DeskInstant, Form()],
    outcome: Annotated[str, Form(max_length=16)],
    recording: Annotated[str, Form(max_length=200)],
    identification_shown: Annotated[bool, Form()] = False,
    entered: Annotated[str, Form(pattern="^(no|consent)$")] = "no",
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
) -> Response:
    """Report a visit made (the instant is the desk's local time when it has no zone); its
    note kept with what the content lint finds in it, shown."""
    at = visited_at if visited_at.tzinfo else visited_at.replace(tzinfo=desk_zone())
    report = VisitReport(
        at, outcome, recording, identification_shown, True if entered == "consent" else None, note
    )
    kept = field_visit.report_visit(
        app.desk,
        app.contacts,
        app.audit_log,
        app.contact_terms,
        app.track,
        app.step_terms,
        actor.principal,
        visit_id,
        report,
        desk_day(at),
        request.app.state.clock(),
    )
    return render(
        request, "fragments/done.html", actor, what="visit-report", key=str(visit_id), note=kept
    )


@router.post("/cases/{loan_id}/legal")
def legal_step(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    step: Annotated[str, Form(max_length=16)],
    on: Annotated[date, Form()],
    cost: Annotated[str, Form(pattern=AMOUNT_PATTERN)] = "0",
    court: Annotated[str, Form(max_length=100)] = "",
    case_number: Annotated[str, Form(max_length=64)] = "",
    performance_due: Annotated[date | None, Form()] = None,
) -> Response:
    """Record the next step of the legal track."""
    casework.require_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
    taken = LegalStep(
        step, on, parse_amount(cost or "0"), court or None, case_number or None, performance_due
    )
    legal.add_legal_step(
        app.desk,
        app.track,
        app.audit_log,
        app.step_terms,
        actor.principal,
        loan_id,
        taken,
        desk_day(now),
        now,
    )
    return render(request, "fragments/done.html", actor, what="legal", key=step)


@router.post("/cases/{loan_id}/flags")
def set_flag(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    flag: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=500)],
) -> Response:
    """Set a flag on the case (`legal`: refer it to legal); its reason kept with what the
    content lint finds in it shown beside."""
    now = request.app.state.clock()
    why = legal.set_flag(app.desk, app.track, app.contact_terms, actor.principal, loan_id, flag,
                         reason, desk_day(now), now)  # fmt: skip
    return render(request, "fragments/done.html", actor, what="flag", key=flag, note=why)


@router.post("/cases/{loan_id}/flags/{flag}/clear")
def clear_flag(
    request: Request, loan_id: str, flag: str, actor: CurrentActor, app: Application
) -> Response:
    """Clear a flag from the case (`legal`: withdraw the referral)."""
    legal.clear_flag(app.desk, app.track, actor.principal, loan_id, flag, request.app.state.clock())
    return render(request, "fragments/done.html", actor, what="flag-clear", key=flag)


@router.post("/cases/{loan_id}/assignment")
def assign(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    target: Annotated[str, Form(max_length=130, pattern=r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]*$")],
) -> Response:
    """Assign the case to a collector of a team, or back to the team's pool ("team:")."""
    now = request.app.state.clock()
    team, _, collector = target.partition(":")
    assignment.assign_case(
        app.desk, actor.principal, loan_id, team, collector or None, desk_day(now), now
    )
    return render(request, "fragments/done.html", actor, what="assign", key=collector or team)


@router.post("/cases/{loan_id}/placement")
def place(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    agency_id: Annotated[str, Form(max_length=64)],
) -> Response:
    """Place the case with an agency."""
    now = request.app.state.clock()
    assignment.place_case(
        app.desk, app.track, app.step_terms, actor.principal, loan_id, agency_id,
        desk_day(now), now,
    )  # fmt: skip
    return render(request, "fragments/done.html", actor, what="place", key=agency_id)


@router.post("/cases/{loan_id}/placement/recall")
def recall(request: Request, loan_id: str, actor: CurrentActor, app: Application) -> Response:
    """Recall the case from its agency."""
    now = request.app.state.clock()
    assignment.recall_case(app.desk, actor.principal, loan_id, desk_day(now), now)
    return render(request, "fragments/done.html", actor, what="recall", key=loan_id)


@router.post("/assignments/balance")
def balance(request: Request, actor: CurrentActor, app: Application) -> Response:
    """Balance the pool of the viewer's team (an administrator: of every team)."""
    now = request.app.state.clock()
    team = actor.user.team_id
    teams = [team] if team else [t for t, _ in app.identity.teams()]
    given = assignment.balance_queue(
        app.desk, actor.principal, teams, desk_day(now), now, app.settings.queue_scale
    )
    return render(
        request,
        "fragments/done.html",
        actor,
        what="balance",
        key=", ".join(f"{u} {n}" for u, n in sorted(given.items())) or "0",
    )

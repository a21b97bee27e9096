"""The case page and the desk's actions on it: contacts, promises, notes, proposals, holds."""

from datetime import date, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from arrears.domain.access import Permission
from arrears.domain.approvals import MAX_SETTLEMENT_DAYS, TERMS, Proposal, ProposalKind, limit_words
from arrears.domain.contact import HOLD_KINDS, OUTCOMES, Hold
from arrears.domain.errors import Refusal, Terms
from arrears.domain.field_visits import VISIT_OUTCOMES
from arrears.domain.legal_track import STEPS
from arrears.domain.money import parse_amount
from arrears.domain.promises import PROMISE_DAYS
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.web.auth import Actor, Application, CurrentActor
from arrears.entrypoints.web.page_render import AMOUNT_PATTERN, DESK_CHANNELS, render
from arrears.entrypoints.web.views import case_file, owed_in_all_on
from arrears.services import casework, desk_contact
from arrears.services.content_check import NOTE_MAX
from arrears.services.desk_contact import lift_case_hold, may_handle, place_case_hold

router = APIRouter(include_in_schema=False)


@router.get("/cases/{loan_id}")
def case_page(request: Request, loan_id: str, actor: CurrentActor, app: Application) -> Response:
    """The case view: the collector's main screen."""
    now = request.app.state.clock()
    document, state = case_file(app, actor.principal, loan_id, now)
    return render(
        request,
        "case.html",
        actor,
        case=document,
        flagged=lint_flagged(document),
        cap_detail=state.cap_rule.detail,
        channels=DESK_CHANNELS,
        outcomes=OUTCOMES,
        today=desk_day(now).isoformat(),
        # The last days a promise may fall due and a settlement's lump sum be paid by.
        promise_last=(desk_day(now) + timedelta(days=PROMISE_DAYS)).isoformat(),
        settlement_last=(desk_day(now) + timedelta(days=MAX_SETTLEMENT_DAYS)).isoformat(),
        liftable=[kind for kind in HOLD_KINDS if may_handle(actor.principal, kind)],
        colleagues=colleagues(app, actor),
        assignees=assignees(app, actor),
        agencies=app.identity.agencies(),
        legal_steps=STEPS,
        visit_outcomes=VISIT_OUTCOMES,
    )


# Where the case file keeps each text the content lint reads: its part, the findings' key.
LINTED = (
    ("attempts", "note_findings"),
    ("notes", "findings"),
    ("visits", "note_findings"),
    ("visits", "reason_findings"),
    ("visits", "decision_note_findings"),
    ("proposals", "decision_note_findings"),
    ("holds", "note_findings"),
    ("flags", "reason_findings"),
)


def lint_flagged(case: dict[str, Any]) -> int:
    """How many texts of the case file the content lint flagged (a text once, whatever it
    found in it)."""
    return sum(1 for part, findings in LINTED for row in case[part] if row.get(findings))


def assignees(app: Any, actor: Actor) -> list[tuple[str, str | None]]:
    """Where the viewer may assign a case: each team they may assign to, its pool first
    (None), then its active collectors."""
    if not actor.principal.may(Permission.ASSIGN):
        return []
    mine = actor.user.team_id
    teams = [mine] if mine else [team for team, _ in app.identity.teams()]
    loads = app.desk.workloads(teams)
    found: list[tuple[str, str | None]] = []
    for team in teams:
        found.append((team, None))
        found += [(team, user) for user in sorted(loads) if loads[user][0] == team]
    return found


def colleagues(app: Any, actor: Actor) -> list[str]:
    """Who may go on a field visit with the viewer: the active collectors of their team."""
    team = actor.user.team_id
    return sorted(u for u in app.desk.workloads([team] if team else []) if u != actor.user.user_id)


@router.get("/cases/{loan_id}/may-contact")
def contact_panel(
    request: Request, loan_id: str, actor: CurrentActor, app: Application
) -> Response:
    """The live "may I contact now, by which channel?" panel."""
    now = request.app.state.clock()
    answers = desk_contact.may_contact_now(
        app.desk, app.contacts, app.contact_terms, actor.principal, loan_id, now
    )
    return render(request, "fragments/contact_panel.html", actor, answers=answers, at=now)


@router.post("/cases/{loan_id}/unmask/{field}")
def unmask(
    request: Request, loan_id: str, field: str, actor: CurrentActor, app: Application
) -> Response:
    """One identifier in clear (audited), in place of its masked form."""
    value = casework.unmask(
        app.desk, app.audit_log, actor.principal, loan_id, field, request.app.state.clock()
    )
    return render(request, "fragments/unmasked.html", actor, value=value)


@router.post("/cases/{loan_id}/contacts")
def log_contact(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    channel: Annotated[str, Form(max_length=16)],
    outcome: Annotated[str, Form(max_length=16)],
    contact_id: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
) -> Response:
    """Log a contact that happened: recorded, and when it broke a rule, flagged and shown
    with the rules it broke (compliance sees it on the dashboard); its note kept with what
    the content lint finds in it (shown, never refused for it), a flagged contact's too."""
    casework.require_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    if channel not in DESK_CHANNELS:
        raise Refusal(
            "the desk logs {channels}; not {channel}",
            channels=Terms.of("channel:", DESK_CHANNELS),
            channel=repr(channel),
        )
    now = request.app.state.clock()
    stored = desk_contact.log_desk_contact(
        app.desk,
        app.contacts,
        app.audit_log,
        app.contact_terms,
        actor.principal,
        loan_id,
        (channel, now, contact_id or None),
        outcome,
        now,
        note,
    )
    return render(
        request,
        "fragments/contact_result.html",
        actor,
        blocked=False,
        decision=stored.decision,
        channel=channel,
        outcome=outcome,
        note=stored.note,
    )


@router.post("/cases/{loan_id}/promises")
def promise(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    amount: Annotated[str, Form(pattern=AMOUNT_PATTERN)],
    due_on: Annotated[date, Form()],
) -> Response:
    """Record a promise to pay."""
    now = request.app.state.clock()
    promise_id = casework.promise_to_pay(
        app.desk, actor.principal, loan_id, parse_amount(amount), due_on, desk_day(now), now,
        partial(app.owed_in_all, loan_id),
    )  # fmt: skip
    return render(request, "fragments/done.html", actor, what="promise", key=promise_id)


@router.post("/cases/{loan_id}/notes")
def note(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    text: Annotated[str, Form(max_length=NOTE_MAX)],
) -> Response:
    """Add a note: kept, with what the content lint finds in it shown beside."""
    added = casework.add_note(
        app.desk, app.contact_terms, actor.principal, loan_id, text, request.app.state.clock()
    )
    return render(
        request, "fragments/done.html", actor, what="note", key=str(added.note_id), note=added.note
    )


@router.post("/cases/{loan_id}/proposals")
def proposal(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    kind: Annotated[str, Form(max_length=16)],
    months: Annotated[int, Form(ge=0, le=36)] = 0,
    days: Annotated[int, Form(ge=0, le=180)] = 0,
    pay: Annotated[str, Form(pattern=f"^$|{AMOUNT_PATTERN}")] = "",
    by: Annotated[date | None, Form()] = None,
) -> Response:
    """Propose a plan, extension or settlement."""
    try:
        offer_kind = ProposalKind(kind)
    except ValueError:
        raise Refusal("unknown proposal kind {kind}", kind=repr(kind)) from None
    now = request.app.state.clock()
    overdue = casework.overdue_of(app.desk, actor.principal, loan_id)
    owed = casework.owed_of(app.desk, actor.principal, loan_id,
                            partial(owed_in_all_on, app, desk_day(now)))  # fmt: skip
    # The form sends every kind's fields; only the chosen kind's own terms are taken.
    sent: dict[str, Any] = {"months": months, "days": days,
                            "pay": parse_amount(pay) if pay else 0, "by": by}  # fmt: skip
    offer = Proposal(offer_kind, overdue, owed=owed,
                     **{term: sent[term] for term in TERMS[offer_kind]})  # fmt: skip
    outcome = casework.propose(
        app.desk, actor.principal, loan_id, offer, offer.terms, now, desk_day(now)
    )
    limit = limit_words(actor.user.role, offer.kind)  # outcome.why is the API's English
    return render(request, "fragments/proposal_result.html", actor, outcome=outcome, limit=limit)


@router.post("/cases/{loan_id}/holds")
def hold(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    kind: Annotated[str, Form(pattern="^(dispute|hardship)$")],
    ends_on: Annotated[date | None, Form()] = None,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Pause collection for a dispute or hardship, from today; its note kept with what the
    content lint finds in it shown beside."""
    casework.require_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
    kept = place_case_hold(
        app.desk,
        app.contacts,
        app.contact_terms,
        actor.principal,
        loan_id,
        Hold(kind, desk_day(now), ends_on, note),
        desk_day(now),
        now,
    )
    return render(request, "fragments/done.html", actor, what="hold", key=kind, note=kept)


@router.post("/cases/{loan_id}/holds/lift")
def lift_hold(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    kind: Annotated[str, Form(max_length=16)],
    starts_on: Annotated[date, Form()],
) -> Response:
    """Lift a hold in force (collection may go on from today)."""
    now = request.app.state.clock()
    lift_case_hold(
        app.desk, app.contacts, actor.principal, loan_id, kind, starts_on, desk_day(now), now
    )
    return render(request, "fragments/done.html", actor, what="lift", key=kind)

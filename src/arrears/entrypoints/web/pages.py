"""The workbench's pages: server-rendered (Jinja2), partial updates with htmx, zh-CN first."""

import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from arrears.domain.access import PERMISSIONS, Permission, Role, scope_of
from arrears.domain.approvals import Proposal, ProposalKind
from arrears.domain.audit_chain import verify_chain
from arrears.domain.contact import OUTCOMES, ContactRequest, Hold
from arrears.domain.errors import DomainError
from arrears.domain.field_visits import VisitReport, VisitRequest
from arrears.domain.legal_track import STEPS, LegalStep
from arrears.domain.money import format_amount, parse_amount
from arrears.entrypoints.web import charts, i18n
from arrears.entrypoints.web.auth import SESSION_COOKIE, Actor, Application, CurrentActor
from arrears.entrypoints.web.views import case_document, desk_day, desk_zone
from arrears.services import assignment, casework, desk_contact, field_visit, legal
from arrears.services.casework_ports import QueueFilter, UserRecord
from arrears.services.dashboard import dashboard
from arrears.services.desk_contact import ContactBlocked, place_case_hold
from arrears.services.identity import (
    create_user,
    list_users,
    set_locale,
    set_user_active,
    sign_in,
    sign_out,
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
PRELOGIN_COOKIE = "arrears_prelogin"  # login CSRF: a double-submitted token
# The desk logs calls and messages; a field visit goes through its own request and approval.
DESK_CHANNELS = ("call", "sms", "email", "letter")


def _locale(request: Request, actor: Actor | None) -> str:
    if actor is not None and actor.user.locale in i18n.LOCALES:
        return actor.user.locale
    chosen = request.cookies.get("arrears_locale")
    return (
        chosen if chosen in i18n.LOCALES else i18n.negotiate(request.headers.get("accept-language"))
    )


def render(
    request: Request, name: str, actor: Actor | None, code: int = 200, **context: Any
) -> HTMLResponse:
    """A page (or fragment) in the viewer's language."""
    locale = _locale(request, actor)
    may = PERMISSIONS[actor.user.role] if actor is not None else frozenset()
    return templates.TemplateResponse(
        request,
        name,
        {
            "_": i18n.translator(locale),
            "locale": locale,
            "locales": i18n.NAMES,
            "actor": actor,
            "may": {p.name.lower(): p in may for p in Permission},
            "money": lambda minor: i18n.money(minor, locale),
            **context,
        },
        status_code=code,
    )


def error_page(request: Request, status: int, message: str) -> Response:
    """A refusal as a page (or, for htmx, a fragment in place of what was asked)."""
    name = "fragments/error.html" if request.headers.get("hx-request") else "error.html"
    return render(request, name, None, status, status=status, message=message)


def blocked_fragment(request: Request, error: ContactBlocked) -> Response:
    """A contact the rules refused, with every rule's reason (shown where the form was)."""
    return render(
        request, "fragments/contact_result.html", None, 200, blocked=True, decision=error.decision
    )


@router.get("/login")
def login_page(request: Request, next: str = "/queue") -> Response:
    """The sign-in form (with a fresh double-submit token against login CSRF)."""
    token = secrets.token_urlsafe(24)
    page = render(request, "login.html", None, prelogin=token, next=_local(next))
    page.set_cookie(PRELOGIN_COOKIE, token, httponly=True, samesite="strict")
    return page


@router.post("/login")
def login(
    request: Request,
    app: Application,
    user_id: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    prelogin: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=200)] = "/queue",
) -> Response:
    """Check the password and open a session (a form not from our page is refused)."""
    if not secrets.compare_digest(prelogin, request.cookies.get(PRELOGIN_COOKIE, "")):
        return error_page(request, 403, "the sign-in form is stale: reload the page")
    client = request.client.host if request.client else "unknown"
    now = request.app.state.clock()
    try:
        grant = sign_in(app.identity, app.passwords, user_id, password, client, now)
    except DomainError as error:
        status = 429 if "too many" in str(error) else 401
        token = secrets.token_urlsafe(24)
        page = render(
            request,
            "login.html",
            None,
            status,
            prelogin=token,
            next=_local(next),
            error=str(error),
            user_id=user_id,
        )
        page.set_cookie(PRELOGIN_COOKIE, token, httponly=True, samesite="strict")
        return page
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        grant.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        # Relative, not the server's instant: a browser whose clock differs keeps it anyway
        # (the server ends the session at its own expiry whatever the cookie says).
        max_age=int((grant.expires_at - now).total_seconds()),
    )
    response.delete_cookie(PRELOGIN_COOKIE)
    return response


def _local(target: str) -> str:
    """Only a path of this site is a place to go after signing in (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/queue"


@router.post("/logout")
def logout(request: Request, actor: CurrentActor, app: Application) -> Response:
    """End the session."""
    if actor.token is not None:
        sign_out(app.identity, actor.token, actor.user, request.app.state.clock())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/me/locale")
def change_locale(
    actor: CurrentActor,
    app: Application,
    locale: Annotated[str, Form(max_length=8)],
    back: Annotated[str, Form(max_length=200)] = "/queue",
) -> Response:
    """Switch the signed-in user's language, back to the page it was switched on."""
    set_locale(app.identity, actor.user, locale)
    return RedirectResponse(_local(back), status_code=303)


@router.get("/")
def home() -> Response:
    """The queue is the start page."""
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(
    request: Request,
    actor: CurrentActor,
    app: Application,
    stage: str | None = None,
    bucket: str | None = None,
    mine: bool = False,
) -> Response:
    """The work queue, highest priority first."""
    which = QueueFilter(stage or None, bucket or None, None, actor.user.user_id if mine else None)
    items = casework.work_queue(app.desk, actor.principal, which)
    return render(
        request,
        "queue.html",
        actor,
        items=items,
        stage=stage or "",
        bucket=bucket or "",
        mine=mine,
        scope=scope_of(actor.principal).kind.value,
    )


@router.get("/cases/{loan_id}")
def case_page(request: Request, loan_id: str, actor: CurrentActor, app: Application) -> Response:
    """The case view: the collector's main screen."""
    now = request.app.state.clock()
    document = case_document(app, actor.principal, loan_id, now)
    return render(
        request,
        "case.html",
        actor,
        charge_totals=charge_totals,
        cut_totals=cut_totals,
        case=document,
        channels=DESK_CHANNELS,
        outcomes=OUTCOMES,
        today=desk_day(now).isoformat(),
        colleagues=colleagues(app, actor),
        assignees=assignees(app, actor),
        agencies=app.identity.agencies(),
        legal_steps=STEPS,
    )


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


def charge_totals(charges: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each kind of charge and its total, in the order kinds first appear."""
    totals: dict[str, int] = {}
    for charge in charges:
        totals[charge["kind"]] = totals.get(charge["kind"], 0) + parse_amount(charge["amount"])
    return [(kind, format_amount(total)) for kind, total in totals.items()]


def cut_totals(cuts: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Each cap rule that cut charges, the total it cut and its legal source."""
    totals: dict[str, tuple[int, str]] = {}
    for cut in cuts:
        was = totals.get(cut["rule"], (0, cut["source"]))
        totals[cut["rule"]] = (was[0] + parse_amount(cut["amount"]), was[1])
    return [(rule, format_amount(total), source) for rule, (total, source) in totals.items()]


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
) -> Response:
    """Log a contact: refused with the rules' reasons when they forbid it now."""
    if channel not in DESK_CHANNELS:
        raise DomainError(f"the desk logs {', '.join(DESK_CHANNELS)}; not {channel!r}")
    now = request.app.state.clock()
    record = casework.open_case(app.desk, actor.principal, loan_id)
    wanted = ContactRequest(
        record.borrower["borrower_id"], channel, now, contact_id=contact_id or None
    )
    stored = desk_contact.log_desk_contact(
        app.desk,
        app.contacts,
        app.audit_log,
        app.contact_terms,
        actor.principal,
        loan_id,
        wanted,
        outcome,
        now,
    )
    return render(
        request,
        "fragments/contact_result.html",
        actor,
        blocked=False,
        decision=stored.decision,
        channel=channel,
        outcome=outcome,
    )


@router.post("/cases/{loan_id}/promises")
def promise(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    amount: Annotated[str, Form(max_length=20)],
    due_on: Annotated[date, Form()],
) -> Response:
    """Record a promise to pay."""
    now = request.app.state.clock()
    promise_id = casework.promise_to_pay(
        app.desk, actor.principal, loan_id, parse_amount(amount), due_on, desk_day(now), now
    )
    return render(request, "fragments/done.html", actor, what="promise", key=promise_id)


@router.post("/cases/{loan_id}/notes")
def note(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    text: Annotated[str, Form(max_length=2000)],
) -> Response:
    """Add a note."""
    note_id = casework.add_note(app.desk, actor.principal, loan_id, text, request.app.state.clock())
    return render(request, "fragments/done.html", actor, what="note", key=str(note_id))


@router.post("/cases/{loan_id}/proposals")
def proposal(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    kind: Annotated[str, Form(max_length=16)],
    months: Annotated[int, Form(ge=0, le=36)] = 0,
    days: Annotated[int, Form(ge=0, le=180)] = 0,
    pay: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Propose a plan, extension or settlement."""
    try:
        offer_kind = ProposalKind(kind)
    except ValueError:
        raise DomainError(f"unknown proposal kind {kind!r}") from None
    overdue = casework.overdue_of(app.desk, actor.principal, loan_id)
    paid = parse_amount(pay) if pay else 0
    offer = Proposal(offer_kind, overdue, months, days, paid)
    outcome = casework.propose(
        app.desk,
        actor.principal,
        loan_id,
        offer,
        {"months": months, "days": days, "pay": paid},
        request.app.state.clock(),
    )
    return render(request, "fragments/proposal_result.html", actor, outcome=outcome)


@router.get("/approvals")
def approvals_page(request: Request, actor: CurrentActor, app: Application) -> Response:
    """Proposals waiting for the signed-in approver."""
    pending = casework.pending_approvals(app.desk, actor.principal)
    return render(request, "approvals.html", actor, pending=pending)


@router.post("/approvals/{proposal_id}")
def decide(
    request: Request,
    proposal_id: int,
    actor: CurrentActor,
    app: Application,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Approve or reject a proposal."""
    status = casework.decide(
        app.desk,
        actor.principal,
        proposal_id,
        decision == "approve",
        note,
        request.app.state.clock(),
    )
    return render(request, "fragments/decided.html", actor, status=status, key=proposal_id)


@router.get("/audit")
def audit_page(
    request: Request, actor: CurrentActor, app: Application, subject: str | None = None
) -> Response:
    """The audit log (compliance) with the chain's verification."""
    entries = casework.audit_entries(app.audit_log, actor.principal, subject or None, 200)
    check = verify_chain(app.audit_log.chain())
    return render(
        request,
        "audit.html",
        actor,
        entries=list(reversed(entries)),
        check=check,
        subject=subject or "",
    )


@router.get("/dashboard")
def dashboard_page(request: Request, actor: CurrentActor, app: Application) -> Response:
    """Supervisors' figures with SVG charts (the last 30 days, the scope's cases)."""
    board = dashboard(app.dashboards, actor.principal, desk_day(request.app.state.clock()))
    locale = _locale(request, actor)
    f = board.figures
    bucket_items = [(b, total) for b, (_, total) in f.buckets.items() if b != "M0"]
    months = sorted({rate.month for rate in board.flows})
    series = [
        (f"{a}→{b}", [_share(board.flows, m, a) for m in months])
        for a, b in (("M0", "M1"), ("M1", "M2"), ("M2", "M3"), ("M3", "M4"))
    ]
    collectors = sorted(f.collected_by_collector.items(), key=lambda kv: -kv[1])
    _ = i18n.translator(locale)
    return render(
        request,
        "dashboard.html",
        actor,
        board=board,
        scope=scope_of(actor.principal).kind.value,
        bucket_chart=charts.bars(
            bucket_items, [f"¥{i18n.money(v, locale)}" for _, v in bucket_items]
        ),
        stage_chart=charts.bars(
            [
                (_(f"stage:{stage}"), n)
                for stage, n in sorted(f.stages.items(), key=lambda kv: -kv[1])
            ]
        ),
        blocked_chart=charts.bars(sorted(f.blocked_by_rule.items(), key=lambda kv: -kv[1])),
        collector_chart=charts.bars(
            [(c or _("unassigned"), v) for c, v in collectors],
            [f"¥{i18n.money(v, locale)}" for _, v in collectors],
        ),
        flow_chart=charts.lines(months, series),
        flow_rows=[
            (m, [_share(board.flows, m, a) for a in ("M0", "M1", "M2", "M3", "M4", "M5")])
            for m in months
        ],
    )


def _share(flows: list[Any], month: str, source: str) -> float | None:
    for rate in flows:
        if rate.month == month and rate.source == source:
            return None if rate.rate is None else float(rate.rate)
    return None


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
    """Pause collection for a dispute or hardship, from today."""
    casework.open_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
    place_case_hold(
        app.desk,
        app.contacts,
        actor.principal,
        loan_id,
        Hold(kind, desk_day(now), ends_on, note),
        now,
    )
    return render(request, "fragments/done.html", actor, what="hold", key=kind)


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
    """Request a field visit with a colleague."""
    casework.open_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    now = request.app.state.clock()
    wanted = VisitRequest(
        loan_id, actor.user.user_id, (actor.user.user_id, second), planned_on, reason
    )
    visit_id = field_visit.request_visit(
        app.desk, app.track, app.ladder_of, actor.principal, wanted, desk_day(now), now
    )
    return render(request, "fragments/done.html", actor, what="visit", key=str(visit_id))


@router.post("/visits/{visit_id}/decision")
def visit_decision(
    request: Request,
    visit_id: int,
    actor: CurrentActor,
    app: Application,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
) -> Response:
    """Approve or reject a field visit."""
    status = field_visit.decide_visit(
        app.desk,
        app.track,
        actor.principal,
        visit_id,
        decision == "approve",
        request.app.state.clock(),
    )
    return render(request, "fragments/decided.html", actor, status=status, key=visit_id)


@router.post("/visits/{visit_id}/report")
def visit_report(
    request: Request,
    visit_id: int,
    actor: CurrentActor,
    app: Application,
    visited_at: Annotated[datetime, Form()],
    outcome: Annotated[str, Form(max_length=16)],
    recording: Annotated[str, Form(max_length=200)],
    identification_shown: Annotated[bool, Form()] = False,
    entered: Annotated[str, Form(pattern="^(no|consent)$")] = "no",
) -> Response:
    """Report a visit made (the instant is the desk's local time when it has no zone)."""
    at = visited_at if visited_at.tzinfo else visited_at.replace(tzinfo=desk_zone())
    report = VisitReport(
        at, outcome, recording, identification_shown, True if entered == "consent" else None
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
    return render(request, "fragments/done.html", actor, what="visit-report", key=str(visit_id))


@router.post("/cases/{loan_id}/legal")
def legal_step(
    request: Request,
    loan_id: str,
    actor: CurrentActor,
    app: Application,
    step: Annotated[str, Form(max_length=16)],
    on: Annotated[date, Form()],
    cost: Annotated[str, Form(max_length=20)] = "0",
    court: Annotated[str, Form(max_length=100)] = "",
    case_number: Annotated[str, Form(max_length=64)] = "",
    performance_due: Annotated[date | None, Form()] = None,
) -> Response:
    """Record the next step of the legal track."""
    casework.open_case(app.desk, actor.principal, loan_id)  # out of scope: 404 first
    taken = LegalStep(
        step, on, parse_amount(cost or "0"), court or None, case_number or None, performance_due
    )
    legal.add_legal_step(
        app.desk,
        app.track,
        app.ladder_of,
        actor.principal,
        loan_id,
        taken,
        request.app.state.clock(),
    )
    return render(request, "fragments/done.html", actor, what="legal", key=step)


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
    assignment.place_case(app.desk, actor.principal, loan_id, agency_id, desk_day(now), now)
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
    given = assignment.balance_queue(app.desk, actor.principal, teams, desk_day(now), now)
    return render(
        request,
        "fragments/done.html",
        actor,
        what="balance",
        key=", ".join(f"{u} {n}" for u, n in sorted(given.items())) or "0",
    )


@router.get("/admin/users")
def users_page(request: Request, actor: CurrentActor, app: Application) -> Response:
    """Users, their roles and teams; create, enable and disable (administrators)."""
    found = list_users(app.identity, actor.principal)
    return render(
        request,
        "users.html",
        actor,
        users=found,
        roles=[r.value for r in Role],
        teams=app.identity.teams(),
        agencies=app.identity.agencies(),
    )


@router.post("/admin/users")
def user_create(
    request: Request,
    actor: CurrentActor,
    app: Application,
    user_id: Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    display_name: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=32)],
    password: Annotated[str, Form(max_length=256)],
    team_id: Annotated[str, Form(max_length=64)] = "",
    agency_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Create a user."""
    try:
        chosen = Role(role)
    except ValueError:
        raise DomainError(f"unknown role {role!r}") from None
    record = UserRecord(user_id, display_name, chosen, "", team_id or None, agency_id or None)
    create_user(
        app.identity, app.passwords, actor.principal, record, password, request.app.state.clock()
    )
    return render(request, "fragments/done.html", actor, what="user", key=user_id)


@router.post("/admin/users/{user_id}/active")
def user_active(
    request: Request,
    user_id: str,
    actor: CurrentActor,
    app: Application,
    active: Annotated[str, Form(pattern="^(true|false)$")],
) -> Response:
    """Enable or disable a user."""
    set_user_active(
        app.identity, actor.principal, user_id, active == "true", request.app.state.clock()
    )
    return render(
        request,
        "fragments/done.html",
        actor,
        what="enabled" if active == "true" else "disabled",
        key=user_id,
    )

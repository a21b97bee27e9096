"""Oversight pages: the audit log, the dashboard, users, teams and agencies."""

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

from arrears.domain.access import Role, scope_of
from arrears.domain.errors import Refusal
from arrears.domain.outsourcing import (
    Agency,
    AgencyNotCleared,
    OutsourcingRule,
    check_agency,
    evaluation_holds_through,
)
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.web import charts, i18n, stage_names
from arrears.entrypoints.web.auth import Application, CurrentActor
from arrears.entrypoints.web.page_render import locale_of, render
from arrears.entrypoints.web.views import balance_day
from arrears.services import casework
from arrears.services.casework_ports import UserRecord
from arrears.services.dashboard import dashboard
from arrears.services.identity import (
    create_user,
    list_users,
    set_user_active,
)
from arrears.services.staff_setup import (
    create_agency,
    create_team,
    evaluate_agency,
    set_agency_commission,
)
from arrears.services.user_admin import reset_password, update_user

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request, actor: CurrentActor, app: Application, subject: str | None = None
) -> Response:
    """The audit log (compliance) with the chain's verification."""
    entries = casework.audit_entries(app.audit_log, actor.principal, subject or None, 200)
    check = casework.verify_log(app.audit_log, actor.principal)
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
    """Supervisors' figures with SVG charts (the 30 days up to the last run, the scope's cases)."""
    board = dashboard(app.dashboards, actor.principal, balance_day(app, request.app.state.clock()))
    locale = locale_of(request, actor)
    f = board.figures
    months = sorted({rate.month for rate in board.flows})
    series = [
        (f"{a}→{b}", [_share(board.flows, m, a) for m in months])
        for a, b in (("M0", "M1"), ("M1", "M2"), ("M2", "M3"), ("M3", "M4"))
    ]
    _ = i18n.translator(locale)
    past_due = {b: owed for b, (_n, owed) in f.buckets.items()}
    collected = {(c or _("not credited")): paid for c, paid in f.collected_by_collector.items()}
    return render(
        request,
        "dashboard.html",
        actor,
        board=board,
        scope=scope_of(actor.principal).kind.value,
        bucket_charts=_by_currency(past_due, locale, by_size=False),
        stage_chart=charts.bars(
            [
                # Counted over every ladder: a name two ladders label apart, by the first's.
                (stage_names.stage_name(stage, locale, app.ladders.values()), n)
                for stage, n in sorted(f.stages.items(), key=lambda kv: -kv[1])
            ]
        ),
        blocked_chart=_by_rule_chart(f.blocked_by_rule, locale),
        flagged_chart=_by_rule_chart(f.flagged_by_rule, locale),
        violations_chart=_by_rule_chart(f.violations_by_rule, locale),
        collector_charts=_by_currency(collected, locale, by_size=True),
        flow_chart=charts.lines(months, series),
        flow_rows=[
            (m, [_share(board.flows, m, a) for a in ("M0", "M1", "M2", "M3", "M4", "M5", "M6")])
            for m in months
        ],
    )


def _by_rule_chart(counts: Mapping[str, int], locale: str) -> Markup:
    """Counts by rule as bars, each rule named in the reader's language (a rule of the pack's
    or the lender's own without a name: its id)."""
    return charts.bars(
        [
            (i18n.catalogue(locale).get(f"rule:{rule}") or rule, n)
            for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
    )


def _by_currency(
    amounts: Mapping[str, Mapping[str, int]], locale: str, by_size: bool
) -> list[tuple[str, Markup]]:
    """A bar chart per currency (amounts in two currencies are neither added nor compared)."""
    currencies = sorted({c for by_currency in amounts.values() for c in by_currency})
    drawn = []
    for currency in currencies:
        items = [(name, v[currency]) for name, v in amounts.items() if v.get(currency)]
        if by_size:
            items.sort(key=lambda kv: -kv[1])
        if items:
            shown = [i18n.amount(v, currency, locale) for _, v in items]
            drawn.append((currency, charts.bars(items, shown)))
    return drawn


def _share(flows: list[Any], month: str, source: str) -> float | None:
    for rate in flows:
        if rate.month == month and rate.source == source:
            return None if rate.rate is None else float(rate.rate)
    return None


@router.get("/admin/users")
def users_page(request: Request, actor: CurrentActor, app: Application) -> Response:
    """Users, their roles and teams; create, enable and disable (administrators)."""
    found = list_users(app.identity, actor.principal)
    agencies = app.identity.agencies()
    today = desk_day(request.app.state.clock())
    rules = sorted(
        (p.outsourcing for p in app.contact_terms.packs.values() if p.outsourcing is not None),
        key=lambda rule: rule.rule_id,
    )
    return render(
        request,
        "users.html",
        actor,
        users=found,
        roles=[r.value for r in Role],
        teams=app.identity.teams(),
        agencies=agencies,
        standings=[_standing(a, rules, today) for a in agencies],
        outsourcing=rules,
        today=today.isoformat(),
    )


def _standing(agency: Agency, rules: list[OutsourcingRule], today: date) -> dict[str, Any]:
    """An agency's row on the list: its standing, its last evaluation and, under each pack's
    outsourcing rule, the last day that evaluation holds and whether a placement is allowed
    today (the desk's day)."""
    holds: list[dict[str, Any]] = []
    for rule in rules:
        through = (
            None
            if agency.evaluated_on is None
            else evaluation_holds_through(agency.evaluated_on, rule.evaluation_months)
        )
        try:
            check_agency(rule, agency, today)
            cleared = True
        except AgencyNotCleared:
            cleared = False
        holds.append({"rule": rule.rule_id, "through": through and through.isoformat(),
                      "cleared": cleared})  # fmt: skip
    return {"agency": agency, "holds": holds}


@router.post("/admin/users")
def user_create(
    request: Request,
    actor: CurrentActor,
    app: Application,
    user_id: Annotated[str, Form(max_length=256)],  # the rule is the domain's (staff.py)
    display_name: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=32)],
    password: Annotated[str, Form(max_length=256)],
    team_id: Annotated[str, Form(max_length=64)] = "",
    agency_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Create a user."""
    record = UserRecord(user_id, display_name, _role(role), "", team_id or None, agency_id or None)
    create_user(
        app.identity, app.passwords, actor.principal, record, password, request.app.state.clock()
    )
    return render(request, "fragments/done.html", actor, what="user", key=user_id)


@router.post("/admin/users/{user_id}")
def user_change(
    request: Request,
    user_id: str,
    actor: CurrentActor,
    app: Application,
    display_name: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=32)],
    team_id: Annotated[str, Form(max_length=64)] = "",
    agency_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Change a user's display name, role, team and agency."""
    wanted = UserRecord(user_id, display_name, _role(role), "", team_id or None, agency_id or None)
    update_user(app.identity, actor.principal, user_id, wanted, request.app.state.clock())
    return render(request, "fragments/done.html", actor, what="user changed", key=user_id)


@router.post("/admin/users/{user_id}/password")
def user_password(
    request: Request,
    user_id: str,
    actor: CurrentActor,
    app: Application,
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Set a user's password (their sessions end and their tokens are revoked)."""
    reset_password(app.identity, app.passwords, actor.principal, user_id, password,
                   request.app.state.clock())  # fmt: skip
    return render(request, "fragments/done.html", actor, what="password reset", key=user_id)


@router.post("/admin/teams")
def team_create(
    request: Request,
    actor: CurrentActor,
    app: Application,
    team_id: Annotated[str, Form(max_length=256)],  # the rule is the domain's (staff.py)
    name: Annotated[str, Form(max_length=100)],
) -> Response:
    """Create a collection team."""
    create_team(app.identity, actor.principal, team_id, name, request.app.state.clock())
    return render(request, "fragments/done.html", actor, what="team", key=team_id)


@router.post("/admin/agencies")
def agency_create(
    request: Request,
    actor: CurrentActor,
    app: Application,
    agency_id: Annotated[str, Form(max_length=256)],
    name: Annotated[str, Form(max_length=100)],
    commission: Annotated[str, Form(max_length=16)],
    listed: Annotated[bool, Form()] = False,
    evaluated_on: Annotated[date | None, Form()] = None,
) -> Response:
    """Create a collection agency with its commission, white-list standing and last
    evaluation."""
    now = request.app.state.clock()
    create_agency(app.identity, actor.principal, agency_id, name, commission, desk_day(now),
                  now, listed=listed, evaluated_on=evaluated_on)  # fmt: skip
    return render(request, "fragments/done.html", actor, what="agency", key=agency_id)


@router.post("/admin/agencies/{agency_id}/evaluation")
def agency_evaluation(
    request: Request,
    agency_id: str,
    actor: CurrentActor,
    app: Application,
    on: Annotated[date, Form()],
    listed: Annotated[bool, Form()] = False,
) -> Response:
    """Record an agency's evaluation: its day, and whether it is on the white list after."""
    now = request.app.state.clock()
    evaluate_agency(app.identity, actor.principal, agency_id, on, listed, desk_day(now), now)
    return render(request, "fragments/done.html", actor, what="evaluation", key=agency_id)


@router.post("/admin/agencies/{agency_id}/commission")
def agency_commission(
    request: Request,
    agency_id: str,
    actor: CurrentActor,
    app: Application,
    commission: Annotated[str, Form(max_length=16)],
) -> Response:
    """Change an agency's commission for the cases placed with it from now on."""
    set_agency_commission(app.identity, actor.principal, agency_id, commission,
                          request.app.state.clock())  # fmt: skip
    return render(request, "fragments/done.html", actor, what="commission", key=agency_id)


def _role(name: str) -> Role:
    """The role a form names, or a refusal naming it."""
    try:
        return Role(name)
    except ValueError:
        raise Refusal("unknown role {role}", role=repr(name)) from None


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

"""The API of oversight: the dashboard, the audit log, users, and the content lint of drafts."""

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import Field

from arrears.bootstrap import App
from arrears.domain.access import Permission, Role, require
from arrears.domain.money import format_amount
from arrears.domain.outsourcing import Agency
from arrears.domain.staff import USER_ID_RULE
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.presenters import agency_document, user_document
from arrears.entrypoints.web.api_common import Day, Flag, Id, Strict, api_router
from arrears.entrypoints.web.audit_export import audit_lines
from arrears.entrypoints.web.auth import Application, CurrentActor
from arrears.entrypoints.web.views import balance_day
from arrears.services import casework
from arrears.services.casework_ports import UserRecord
from arrears.services.content_check import check_draft, draft_document
from arrears.services.dashboard import dashboard, totals
from arrears.services.identity import (
    create_user,
    list_users,
    set_user_active,
)
from arrears.services.staff_setup import (
    AgencyNotFound,
    create_agency,
    create_team,
    evaluate_agency,
    set_agency_commission,
)
from arrears.services.user_admin import reset_password, update_user

router = api_router("oversight")
DRAFT_MAX = 20_000  # characters: a letter's text is longer than a note
# Collected but credited to no collector (no user id has a space or brackets).
NOT_CREDITED = "(not credited)"


@router.get("/dashboard")
def dashboard_figures(actor: CurrentActor, app: Application, request: Request) -> dict[str, Any]:
    """The dashboard's figures for the caller's scope over the 30 days up to the last run."""
    board = dashboard(app.dashboards, actor.principal, balance_day(app, request.app.state.clock()))
    f = board.figures
    return {
        "since": board.since.isoformat(), "until": board.until.isoformat(),
        "buckets": {b: {"cases": n, "past_due": _amounts(t)} for b, (n, t) in f.buckets.items()},
        "stages": dict(f.stages), "promises": dict(f.promises),
        "promise_kept_rate": None if board.kept_rate is None else decimal_text(board.kept_rate),
        "collected_by_collector": {c or NOT_CREDITED: _amounts(v)
                                   for c, v in f.collected_by_collector.items()},
        "collected_by_agency": {a: _by_agency(by_rate, board.commissions[a])
                                for a, by_rate in f.collected_by_agency.items()},
        "blocked_by_rule": dict(f.blocked_by_rule),
        "flagged_by_rule": dict(f.flagged_by_rule),
        "flagged_texts": [
            {"written_in": t.written_in, "at": t.at.isoformat(), "loan_id": t.loan_id,
             "borrower_id": t.borrower_id, "rules": list(t.rules)}
            for t in f.flagged
        ],
        "violations_by_rule": dict(f.violations_by_rule),
        "flow_rates": [
            {"month": r.month, "from": r.source, "to": r.target,
             "rate": None if r.rate is None else decimal_text(r.rate)}
            for r in board.flows
        ],
    }  # fmt: skip


class DraftIn(Strict):
    pack: Annotated[str, Field(min_length=1, max_length=16)]
    text: Annotated[str, Field(min_length=1, max_length=DRAFT_MAX)]
    channel: Annotated[str, Field(min_length=1, max_length=16)] | None = None


@router.post("/content/lint")
def lint_draft(body: DraftIn, actor: CurrentActor, app: Application) -> dict[str, Any]:
    """What a pack's content rules find in a draft (a template, a letter) before it is used,
    each finding with its rule, source, phrase and place; for a draft of a `channel`, the
    statements the pack requires of it that it lacks (`missing`); `clean` when neither.
    Nothing is stored (`arrears contact lint` answers the same). Any role of the desk may
    ask."""
    require(actor.principal, Permission.CASE_VIEW)
    check = check_draft(app.settings.content_packs, body.pack, body.text, body.channel)
    return draft_document(body.pack, body.channel, check)


def _by_agency(
    collected: Mapping[str, Mapping[str, int]], commissions: Mapping[str, Mapping[str, int]]
) -> dict[str, Any]:
    """An agency's collections and commission, in all and by the placements' rate
    (`commission_rate`: the one rate when all were at one, else null)."""
    rates = sorted(collected, key=Decimal)
    return {
        "collected": _amounts(totals(collected)),
        "commission_rate": rates[0] if len(rates) == 1 else None,
        "commission": _amounts(totals(commissions)),
        "by_rate": {r: {"collected": _amounts(collected[r]), "commission": _amounts(commissions[r])}
                    for r in rates},
    }  # fmt: skip


def _amounts(by_currency: Mapping[str, int]) -> dict[str, str]:
    """Currency → amount: each currency on its own, never added to another."""
    return {currency: format_amount(v) for currency, v in sorted(by_currency.items())}


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
def audit_verify(
    actor: CurrentActor,
    app: Application,
    seq: Annotated[int | None, Query(ge=1, description="an anchor's sequence number")] = None,
    hash: Annotated[
        str | None, Query(pattern="^[0-9a-f]{64}$", description="the anchor's entry hash")
    ] = None,
) -> dict[str, Any]:
    """Recompute the whole hash chain: intact, or the first entry that does not fit; with an
    anchor (`seq` and `hash`, a `head` this gave earlier and kept outside the database), a
    log rewritten since with its hashes worked out again is found too."""
    if (seq is None) != (hash is None):
        raise RequestValidationError(
            [{"loc": ("query", "hash" if hash is None else "seq"), "type": "missing",
              "msg": "an anchor is a seq and a hash, both given", "input": None}]
        )  # fmt: skip
    anchor = None if seq is None or hash is None else (seq, hash)
    check = casework.verify_log(app.audit_log, actor.principal, anchor)
    return {
        "entries": check.entries,
        "intact": check.intact,
        "broken_at": check.broken_at,
        "problem": check.problem,
        # Kept outside the database (printed, mailed), the anchor a later verification takes.
        "head": {"seq": check.last_seq, "hash": check.last_hash} if check.intact else None,
    }


# The rule is the domain's (staff.py), so the API, the pages and the CLI say it alike.
UserId = Annotated[str, Field(max_length=256, description=USER_ID_RULE)]


RoleName = Literal[
    "admin", "strategy_manager", "supervisor", "collector", "compliance", "legal", "agency"
]


class UserIn(Strict):
    user_id: UserId
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    role: RoleName
    password: Annotated[str, Field(min_length=10, max_length=256)]
    team_id: Id | None = None
    agency_id: Id | None = None
    locale: Literal["zh-CN", "zh-TW", "en"] = "zh-CN"


class ActiveIn(Strict):
    active: Flag


class UserChangeIn(Strict):
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    role: RoleName
    team_id: Id | None = None
    agency_id: Id | None = None


class PasswordIn(Strict):
    password: Annotated[str, Field(min_length=10, max_length=256)]


class TeamIn(Strict):
    team_id: UserId  # the user-id rule, said by the domain (staff.py)
    name: Annotated[str, Field(min_length=1, max_length=100)]


class AgencyIn(Strict):
    agency_id: UserId
    name: Annotated[str, Field(min_length=1, max_length=100)]
    commission: Annotated[str, Field(max_length=16, description="a share 0-1, e.g. 0.18")]
    listed: Flag = Field(False, description="on the lender's published white list")
    evaluated_on: Day | None = Field(None, description="the day of its last evaluation")


class EvaluationIn(Strict):
    on: Day
    listed: Flag = Field(True, description="on the white list after it (false: delisted)")


class CommissionIn(Strict):
    commission: Annotated[str, Field(max_length=16, description="a share 0-1, e.g. 0.20")]


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
    stored = set_user_active(app.identity, actor.principal, user_id, body.active,
                             request.app.state.clock())  # fmt: skip
    return {"user_id": stored, "active": body.active}


@router.put("/users/{user_id}")
def change(
    user_id: Id, body: UserChangeIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Change a user's display name, role, team and agency (administrators); a collector
    leaving their team gives their cases back to its pool."""
    wanted = UserRecord(user_id, body.display_name, Role(body.role), "", body.team_id,
                        body.agency_id)  # fmt: skip
    changed = update_user(app.identity, actor.principal, user_id, wanted,
                          request.app.state.clock())  # fmt: skip
    return user_document(changed)


@router.put("/users/{user_id}/password")
def password(
    user_id: Id, body: PasswordIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Set a user's password (administrators): their sessions end, their tokens are revoked."""
    stored = reset_password(app.identity, app.passwords, actor.principal, user_id, body.password,
                            request.app.state.clock())  # fmt: skip
    return {"user_id": stored, "password": "reset"}


@router.get("/teams")
def team_list(actor: CurrentActor, app: Application) -> dict[str, Any]:
    """Every team and every agency with its commission (administrators)."""
    require(actor.principal, Permission.USERS)
    return {
        "teams": [{"team_id": t, "name": n} for t, n in app.identity.teams()],
        "agencies": [agency_document(a) for a in app.identity.agencies()],
    }


@router.post("/teams", status_code=201)
def team_create(
    body: TeamIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Create a collection team (administrators)."""
    create_team(app.identity, actor.principal, body.team_id, body.name,
                request.app.state.clock())  # fmt: skip
    return {"team_id": body.team_id, "name": body.name}


@router.post("/agencies", status_code=201)
def agency_create(
    body: AgencyIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Create a collection agency with its commission, white-list standing and last
    evaluation (administrators)."""
    now = request.app.state.clock()
    create_agency(app.identity, actor.principal, body.agency_id, body.name, body.commission,
                  desk_day(now), now, listed=body.listed,
                  evaluated_on=body.evaluated_on)  # fmt: skip
    return agency_document(_agency(app, body.agency_id))


@router.post("/agencies/{agency_id}/evaluation")
def agency_evaluation(
    agency_id: Id, body: EvaluationIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Record an agency's evaluation (administrators): the day, not after the desk's today,
    and whether it is on the white list after it."""
    now = request.app.state.clock()
    evaluate_agency(app.identity, actor.principal, agency_id, body.on, body.listed,
                    desk_day(now), now)  # fmt: skip
    return agency_document(_agency(app, agency_id))


@router.put("/agencies/{agency_id}/commission")
def agency_commission(
    agency_id: Id, body: CommissionIn, actor: CurrentActor, app: Application, request: Request
) -> dict[str, Any]:
    """Change an agency's commission for the cases placed from now on (administrators); a
    case placed already keeps its placement's rate. The agency as it is now, and the rate
    replaced (`was`)."""
    was = set_agency_commission(app.identity, actor.principal, agency_id, body.commission,
                                request.app.state.clock())  # fmt: skip
    return {**agency_document(_agency(app, agency_id)), "was": was}


def _agency(app: App, agency_id: str) -> Agency:
    """An agency as stored (just written: agencies are never removed)."""
    found = app.desk.agency(agency_id)
    if found is None:
        raise AgencyNotFound("agency {agency_id} is not known", agency_id=repr(agency_id))
    return found


def decimal_text(rate: Fraction) -> str:
    """A rate as a decimal with four places ("0.6667")."""
    return str((Decimal(rate.numerator) / Decimal(rate.denominator)).quantize(Decimal("0.0001")))

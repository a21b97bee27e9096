"""No route leaks a case, an identifier or an action outside a role's scope.

The routes are read from the application, so a route added without a line in CALLS fails
`test_every_route_is_covered`. Each role is sent, through every route that names a case or a
proposal, at one its scope does not cover (or, for roles that see every case, at an action its
role lacks): the answer must be a refusal that does not show the borrower. Lists (queues,
approvals) must hold only cases of the scope, computed here from the tables themselves.
"""

from typing import Any

import pytest
from sqlalchemy import insert, select

from arrears.adapters.db.casework_tables import (
    assignments,
    field_visits,
    legal_cases,
    loan_flags,
    placements,
    users,
)
from arrears.adapters.db.tables import borrowers, cases, loan_states, loans
from arrears.domain.access import PERMISSIONS, Permission, Role
from tests.entrypoints.web.desk_book import ROLES, Desk
from tests.entrypoints.web.routes import every_route

P = Permission
PUBLIC = {
    ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/docs"), ("GET", "/static/{path}"),
    ("POST", "/api/v1/tokens"), ("GET", "/login"), ("POST", "/login"),
}  # fmt: skip
# Routes about one case (or a proposal on one): how to call them, and the permission needed.
CALLS: dict[tuple[str, str], tuple[dict[str, Any], Permission]] = {
    ("GET", "/api/v1/cases/{loan_id}"): ({}, P.CASE_VIEW),
    ("POST", "/api/v1/cases/{loan_id}/unmask"): ({"json": {"field": "phone"}}, P.UNMASK_PHONE),
    ("GET", "/api/v1/cases/{loan_id}/may-contact"): ({}, P.CASE_VIEW),
    ("POST", "/api/v1/cases/{loan_id}/contacts"):
        ({"json": {"channel": "call", "outcome": "connected"}}, P.CONTACT_LOG),
    ("POST", "/api/v1/cases/{loan_id}/promises"):
        ({"json": {"amount": "100.00", "due_on": "2025-10-08"}}, P.CONTACT_LOG),
    ("POST", "/api/v1/cases/{loan_id}/notes"): ({"json": {"text": "rang twice"}}, P.CONTACT_LOG),
    ("POST", "/api/v1/cases/{loan_id}/proposals"):
        ({"json": {"kind": "extension", "days": 10}}, P.PROPOSE),
    ("POST", "/api/v1/approvals/{proposal_id}"): ({"json": {"approve": True}}, P.APPROVE),
    ("PUT", "/api/v1/cases/{loan_id}/assignment"): ({"json": {"team_id": "team-east"}}, P.ASSIGN),
    ("POST", "/api/v1/cases/{loan_id}/placement"): ({"json": {"agency_id": "agency-hz"}}, P.PLACE),
    ("DELETE", "/api/v1/cases/{loan_id}/placement"): ({}, P.PLACE),
    ("GET", "/cases/{loan_id}"): ({}, P.CASE_VIEW),
    ("GET", "/cases/{loan_id}/may-contact"): ({}, P.CASE_VIEW),
    ("POST", "/cases/{loan_id}/unmask/{field}"): ({}, P.UNMASK_PHONE),
    ("POST", "/cases/{loan_id}/contacts"):
        ({"data": {"channel": "call", "outcome": "connected"}}, P.CONTACT_LOG),
    ("POST", "/cases/{loan_id}/promises"):
        ({"data": {"amount": "100.00", "due_on": "2025-10-08"}}, P.CONTACT_LOG),
    ("POST", "/cases/{loan_id}/notes"): ({"data": {"text": "rang twice"}}, P.CONTACT_LOG),
    ("POST", "/cases/{loan_id}/proposals"):
        ({"data": {"kind": "extension", "days": "10"}}, P.PROPOSE),
    ("POST", "/approvals/{proposal_id}"): ({"data": {"decision": "approve"}}, P.APPROVE),
    ("POST", "/api/v1/cases/{loan_id}/visits"):
        ({"json": {"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-03",
                   "reason": "unreachable"}}, P.FIELD_VISIT),
    ("POST", "/api/v1/visits/{visit_id}/decision"): ({"json": {"approve": True}}, P.APPROVE),
    ("POST", "/api/v1/visits/{visit_id}/report"):
        ({"json": {"visited_at": "2025-10-03T10:00:00+08:00", "outcome": "connected",
                   "recording": "r.mp4", "identification_shown": True}}, P.FIELD_VISIT),
    ("POST", "/api/v1/cases/{loan_id}/legal"):
        ({"json": {"step": "lawyers_letter", "on": "2025-10-02"}}, P.LEGAL),
    ("POST", "/api/v1/cases/{loan_id}/holds"):
        ({"json": {"kind": "dispute", "starts_on": "2025-10-01"}}, P.HOLD),
    ("POST", "/cases/{loan_id}/holds"): ({"data": {"kind": "dispute"}}, P.HOLD),
    ("POST", "/cases/{loan_id}/holds/lift"):
        ({"data": {"kind": "dispute", "starts_on": "2025-10-01"}}, P.HOLD),
    ("POST", "/cases/{loan_id}/visits"):
        ({"data": {"second": "col-east-2", "planned_on": "2025-10-03", "reason": "x"}},
         P.FIELD_VISIT),
    ("POST", "/visits/{visit_id}/decision"): ({"data": {"decision": "approve"}}, P.APPROVE),
    ("POST", "/visits/{visit_id}/report"):
        ({"data": {"visited_at": "2025-10-03T10:00", "outcome": "connected", "recording": "r",
                   "identification_shown": "true"}}, P.FIELD_VISIT),
    ("POST", "/cases/{loan_id}/assignment"): ({"data": {"target": "team-east:"}}, P.ASSIGN),
    ("POST", "/cases/{loan_id}/placement"): ({"data": {"agency_id": "agency-hz"}}, P.PLACE),
    ("POST", "/cases/{loan_id}/placement/recall"): ({}, P.PLACE),
    ("POST", "/cases/{loan_id}/legal"): ({"data": {"step": "lawyers_letter", "on": "2025-10-02"}},
                                        P.LEGAL),
    ("POST", "/api/v1/cases/{loan_id}/flags"):
        ({"json": {"flag": "legal", "reason": "says they will never pay"}}, P.REFER),
    ("DELETE", "/api/v1/cases/{loan_id}/flags/{flag}"): ({}, P.REFER),
    ("POST", "/cases/{loan_id}/flags"):
        ({"data": {"flag": "legal", "reason": "says they will never pay"}}, P.REFER),
    ("POST", "/cases/{loan_id}/flags/{flag}/clear"): ({}, P.REFER),
}  # fmt: skip
# Routes that list or act on no single case: checked by their own tests below.
LISTS = {
    ("GET", "/api/v1/me"), ("GET", "/api/v1/queue"), ("GET", "/queue"), ("GET", "/"),
    ("GET", "/api/v1/approvals"), ("GET", "/approvals"), ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"), ("GET", "/api/v1/audit/export"), ("GET", "/audit"),
    ("POST", "/api/v1/assignments/balance"), ("POST", "/assignments/balance"),
    ("GET", "/dashboard"), ("GET", "/api/v1/dashboard"),
    # test_content_lint_web.py: a draft checked against a pack touches no case
    ("POST", "/api/v1/content/lint"),
    ("POST", "/me/locale"), ("POST", "/logout"),
    ("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("PUT", "/api/v1/users/{user_id}/active"),
    ("GET", "/admin/users"), ("POST", "/admin/users"), ("POST", "/admin/users/{user_id}/active"),
    # test_admin_users.py: only an administrator changes a user or resets a password
    ("PUT", "/api/v1/users/{user_id}"), ("PUT", "/api/v1/users/{user_id}/password"),
    ("POST", "/admin/users/{user_id}"), ("POST", "/admin/users/{user_id}/password"),
    # test_admin_users.py: only an administrator creates teams and agencies
    ("GET", "/api/v1/teams"), ("POST", "/api/v1/teams"), ("POST", "/api/v1/agencies"),
    ("POST", "/admin/teams"), ("POST", "/admin/agencies"),
    # test_agency_list.py: only an administrator records an agency's evaluation
    ("POST", "/api/v1/agencies/{agency_id}/evaluation"),
    ("POST", "/admin/agencies/{agency_id}/evaluation"),
    # test_agency_commission.py: only an administrator changes an agency's commission
    ("PUT", "/api/v1/agencies/{agency_id}/commission"),
    ("POST", "/admin/agencies/{agency_id}/commission"),
    # test_own_password.py: a user changes their own password, no one else's
    ("GET", "/me/password"), ("POST", "/me/password"),
    # test_replies_desk.py: replies come by number, read by who may read them all
    ("GET", "/replies"), ("POST", "/replies/{reply_id}"),
    ("GET", "/api/v1/replies"), ("POST", "/api/v1/replies/{reply_id}"),
    # test_portal.py: a borrower's own loans only, by a one-time link's session
    ("GET", "/p/{token}"), ("POST", "/p/{token}"), ("GET", "/my"), ("POST", "/my/locale"),
    ("POST", "/my/sign-out"),
    # test_portal_requests.py: a borrower asks on their own loans only
    ("POST", "/my/loans/{loan_id}/requests"), ("POST", "/my/dispute"),
}  # fmt: skip


def test_every_route_is_covered(desk: Desk) -> None:
    served = set(every_route(desk.web))
    assert served == PUBLIC | set(CALLS) | LISTS, "a route has no scoping check: add it here"


def scope_of_user(desk: Desk, user_id: str) -> set[str]:
    """The loans a user may see, computed from the tables (independently of the app)."""
    user = ROLES[user_id]
    with desk.app.engine.connect() as conn:
        every = set(conn.execute(select(loans.c.loan_id)).scalars())
        assigned = {r.loan_id: r for r in conn.execute(select(assignments))}
        placed = {r.loan_id: r.agency_id for r in conn.execute(
            select(placements).where(placements.c.recalled_on.is_(None)))}  # fmt: skip
        stages = dict(conn.execute(select(cases.c.loan_id, cases.c.stage)).all())
        tracked = set(conn.execute(select(legal_cases.c.loan_id)).scalars())
        flagged = select(loan_flags.c.loan_id).where(loan_flags.c.flag == "legal")
        referred = set(conn.execute(flagged).scalars())
        legal = {loan for loan, stage in stages.items() if stage == "legal"} | tracked | referred
    if user.role in (Role.ADMIN, Role.STRATEGY_MANAGER, Role.COMPLIANCE):
        return every
    if user.role is Role.COLLECTOR:
        return {loan for loan, a in assigned.items() if a.collector_id == user_id}
    if user.role is Role.SUPERVISOR:  # their team's, and the pool of cases in collection
        resting = (None, "current", "settled")
        return {loan for loan in every
                if (loan in assigned and assigned[loan].team_id == user.team_id)
                or (loan not in assigned and stages.get(loan) not in resting)}  # fmt: skip
    if user.role is Role.AGENCY:
        return {loan for loan, agency in placed.items() if agency == user.agency_id}
    return legal


def past_due(desk: Desk) -> set[str]:
    """Loans owing something past due after the run."""
    s = loan_states.c
    owed = s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees
    with desk.app.engine.connect() as conn:
        return set(conn.execute(select(s.loan_id).where(owed > 0)).scalars())


def borrower_of(desk: Desk, loan_id: str) -> tuple[str, str]:
    with desk.app.engine.connect() as conn:
        row = conn.execute(
            select(borrowers.c.name, borrowers.c.phone)
            .join(loans, loans.c.borrower_id == borrowers.c.borrower_id)
            .where(loans.c.loan_id == loan_id)
        ).one()
    return row.name, row.phone


def pending_proposal_on(desk: Desk, loan_id: str) -> int:
    """A proposal awaiting approval on a loan, made by the administrator."""
    headers = desk.bearer("admin")
    answer = desk.client().post(f"/api/v1/cases/{loan_id}/proposals", headers=headers,
                                json={"kind": "extension", "days": 170})  # fmt: skip
    assert answer.status_code == 201, answer.text
    proposal_id: int = answer.json()["proposal_id"]
    # The administrator's own limit lets it through: make it pending as a supervisor's would be.
    with desk.app.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE proposals SET status='pending', decided_by=NULL, decided_at=NULL, "
            f"proposed_by='someone-else' WHERE proposal_id={proposal_id}"
        )
    return proposal_id


def requested_visit_on(desk: Desk, loan_id: str) -> int:
    """A field visit on a loan, approved and waiting to be reported, made by others."""
    with desk.app.engine.begin() as conn:
        made = conn.execute(insert(field_visits).values(
            loan_id=loan_id, requested_by="someone-else", requested_at=desk.now,
            collectors=["someone-else", "another"], planned_on=desk.now.date(), reason="test",
            status="approved", guard=[]).returning(field_visits.c.visit_id))  # fmt: skip
        return int(made.scalar_one())


@pytest.mark.parametrize("user_id", sorted(ROLES))
def test_no_case_route_reaches_outside_the_scope(desk: Desk, user_id: str) -> None:
    role = ROLES[user_id].role
    scope = scope_of_user(desk, user_id)
    every = past_due(desk)  # the cases worth a look: those owing something past due
    outside = sorted(every - scope)
    target = outside[0] if outside else sorted(every)[0]
    name, phone = borrower_of(desk, target)
    proposal = pending_proposal_on(desk, target)
    visit = requested_visit_on(desk, target)
    client, csrf = desk.signed_in(user_id)
    api_headers = desk.bearer(user_id)
    for (method, path), (body, permission) in CALLS.items():
        if not outside and permission in PERMISSIONS[role]:
            continue  # the role sees every case and may do this: the flow tests cover it
        url = path.format(
            loan_id=target, proposal_id=proposal, field="phone", visit_id=visit, flag="legal"
        )
        headers = api_headers if path.startswith("/api/") else {"X-CSRF-Token": csrf}
        answer = client.request(method, url, headers=headers, **body)
        where = f"{user_id} {method} {url}"
        assert answer.status_code in (403, 404), f"{where}: {answer.status_code} {answer.text}"
        assert name not in answer.text, f"{where} shows the borrower's name"
        assert phone[-4:] not in answer.text, f"{where} shows the borrower's number"


@pytest.mark.parametrize("user_id", sorted(ROLES))
def test_queues_hold_only_the_scope(desk: Desk, user_id: str) -> None:
    scope = scope_of_user(desk, user_id)
    client, _ = desk.signed_in(user_id)
    listed = client.get("/api/v1/queue", headers=desk.bearer(user_id)).json()["cases"]
    assert {c["loan_id"] for c in listed} <= scope
    page = client.get("/queue").text
    every = scope_of_user(desk, "admin")
    for loan in every - scope:
        assert f'/cases/{loan}"' not in page, f"{user_id}'s queue page shows {loan}"
    if scope:
        assert listed, f"{user_id} sees cases in scope but an empty queue"


@pytest.mark.parametrize("user_id", sorted(ROLES))
def test_the_case_file_shows_identifiers_masked(desk: Desk, user_id: str) -> None:
    scope = sorted(scope_of_user(desk, user_id) & past_due(desk))
    if not scope:
        pytest.skip(f"{user_id} has no case in this book")  # never: asserted below
    shown = desk.client().get(f"/api/v1/cases/{scope[0]}", headers=desk.bearer(user_id)).json()
    with desk.app.engine.connect() as conn:
        raw = conn.execute(select(borrowers).where(
            borrowers.c.borrower_id == shown["borrower"]["borrower_id"])).one()  # fmt: skip
    for field in ("phone", "national_id", "address", "email"):
        value = getattr(raw, field)
        if value:
            assert shown["borrower"][field] != value, f"{user_id} sees {field} unmasked"
            assert "*" in shown["borrower"][field]


def test_every_role_has_cases_in_the_test_book(desk: Desk) -> None:
    # The masking and queue tests above mean something only if each role sees some case.
    for user_id in ROLES:
        assert scope_of_user(desk, user_id) & past_due(desk), f"{user_id} sees no case"


@pytest.mark.parametrize("user_id", sorted(ROLES))
def test_approvals_audit_and_balancing_follow_the_role(desk: Desk, user_id: str) -> None:
    role = ROLES[user_id].role
    headers = desk.bearer(user_id)
    client = desk.client()
    may = PERMISSIONS[role]
    for route in ("/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/export"):
        audit = client.get(route, headers=headers)
        assert audit.status_code == (200 if P.AUDIT_VIEW in may else 403), route
    for route in ("/api/v1/users",):
        listed = client.get(route, headers=headers)
        assert listed.status_code == (200 if P.USERS in may else 403), route
    board = client.get("/api/v1/dashboard", headers=headers)
    assert board.status_code == (200 if P.DASHBOARD in may else 403)
    approvals = client.get("/api/v1/approvals", headers=headers)
    assert approvals.status_code == (200 if P.APPROVE in may else 403)
    balance = client.post("/api/v1/assignments/balance", headers=headers,
                          json={"teams": ["team-west"]})  # fmt: skip
    allowed = P.ASSIGN in may and (role is Role.ADMIN or ROLES[user_id].team_id == "team-west")
    assert (balance.status_code == 200) == allowed, balance.text
    # last: disabling the only west collector would leave nobody to balance over
    disable = client.put("/api/v1/users/col-west-1/active", headers=headers, json={"active": False})
    assert disable.status_code == (200 if P.USERS in may else 403)


def test_a_supervisor_sees_only_their_teams_pending_proposals(desk: Desk) -> None:
    with desk.app.engine.connect() as conn:
        query = select(assignments.c.loan_id).where(assignments.c.team_id == "team-west")
        west = conn.execute(query).scalars().first()
        active = conn.execute(select(users.c.user_id)).scalars().all()
    assert west is not None
    assert "sup-east" in active
    proposal = pending_proposal_on(desk, west)
    seen = {
        user: {p["proposal_id"] for p in desk.client().get(
            "/api/v1/approvals", headers=desk.bearer(user)).json()["pending"]}
        for user in ("sup-east", "sup-west", "admin")
    }  # fmt: skip
    assert proposal not in seen["sup-east"]
    assert proposal in seen["sup-west"]
    assert proposal in seen["admin"]

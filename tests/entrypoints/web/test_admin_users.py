"""The administrator changes an existing user (name, role, team, agency) and resets a password,
through the API and the pages, on SQLite and on PostgreSQL; sign-in is blind to case."""

from dataclasses import replace
from html import unescape

import pytest
from sqlalchemy import func, select

from arrears.adapters.db.casework_tables import assignments, audit_log, users
from arrears.adapters.db.identity_store import IdentityConflict
from arrears.domain.access import Role
from arrears.domain.audit_chain import AuditEntry
from arrears.entrypoints.demo_staff import DEMO_PASSWORD
from arrears.services.assignment import balance_queue
from arrears.services.identity import (
    authenticate,
    issue_token,
    session_user,
    sign_in,
    token_user,
)
from arrears.services.user_admin import reset_password
from tests.entrypoints.web.desk_book import Desk

NEW_PASSWORD = "a-new-secret-42"
MOVE = {"display_name": "催收员 李娜", "role": "collector", "team_id": "team-west"}


def audit_count(desk: Desk) -> int:
    """How many audit entries the store holds."""
    with desk.app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def updates(desk: Desk, user_id: str) -> list[tuple[str, dict[str, object]]]:
    """The user.update entries about a user: (actor, detail)."""
    entries = desk.app.audit_log.entries(subject=f"user:{user_id}")
    return [(e.entry.actor, e.entry.detail) for e in entries if e.entry.action == "user.update"]


def test_an_administrator_moves_a_collector_to_another_team(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    moved = staffed.client().put("/api/v1/users/col-east-1", headers=admin, json=MOVE)
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"user_id": "col-east-1", "display_name": "催收员 李娜",
                            "role": "collector", "team_id": "team-west", "agency_id": None,
                            "locale": "zh-CN", "active": True}  # fmt: skip
    stored = staffed.app.identity.user("col-east-1")
    assert stored is not None
    assert stored.team_id == "team-west"
    assert updates(staffed, "col-east-1") == [("admin", {"team_id": ["team-east", "team-west"]})]
    before = audit_count(staffed)
    again = staffed.client().put("/api/v1/users/col-east-1", headers=admin, json=MOVE)
    assert again.status_code == 200
    assert audit_count(staffed) == before  # the same values again change nothing


def test_an_administrator_names_a_user_in_any_case_as_sign_in_does(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    moved = staffed.client().put("/api/v1/users/COL-East-1", headers=admin, json=MOVE)
    assert moved.status_code == 200, moved.text
    assert moved.json()["user_id"] == "col-east-1"
    assert updates(staffed, "col-east-1") == [("admin", {"team_id": ["team-east", "team-west"]})]
    reset = staffed.client().put("/api/v1/users/COL-EAST-1/password", headers=admin,
                                 json={"password": NEW_PASSWORD})  # fmt: skip
    assert reset.json() == {"user_id": "col-east-1", "password": "reset"}, reset.text
    new = {"user_id": "col-east-1", "password": NEW_PASSWORD, "name": "t"}
    assert staffed.client().post("/api/v1/tokens", json=new).status_code == 201
    # The administrator cannot take their own role away by naming themselves in capitals.
    demoted = staffed.client().put("/api/v1/users/ADMIN", headers=admin,
                                   json={**MOVE, "display_name": "x"})  # fmt: skip
    assert demoted.status_code == 422, demoted.text
    off = staffed.client().put("/api/v1/users/Admin/active", headers=admin,
                               json={"active": False})  # fmt: skip
    assert off.status_code == 422, off.text
    admin_now = staffed.app.identity.user("admin")
    assert admin_now is not None
    assert (admin_now.role, admin_now.active) == (Role.ADMIN, True)


def test_a_role_change_through_the_page_is_audited_with_each_change(staffed: Desk) -> None:
    client, csrf = staffed.signed_in("admin")
    form = {"display_name": "组长 李娜", "role": "supervisor", "team_id": "team-east"}
    done = client.post("/admin/users/col-east-1", headers={"X-CSRF-Token": csrf}, data=form)
    assert done.status_code == 200, done.text
    assert "已修改用户" in done.text
    stored = staffed.app.identity.user("col-east-1")
    assert stored is not None
    assert stored.role.value == "supervisor"
    assert stored.display_name == "组长 李娜"
    assert updates(staffed, "col-east-1") == [
        ("admin", {"display_name": ["催收员 李娜", "组长 李娜"],
                   "role": ["collector", "supervisor"]}),
    ]  # fmt: skip
    # The change holds at once: the supervisor now approves what their team proposes.
    page, _ = staffed.signed_in("col-east-1")
    assert page.get("/approvals").status_code == 200


CHANGES_REFUSED = [
    ("admin", {"display_name": "x", "role": "supervisor", "team_id": "team-east"}, 422,
     "you cannot take the administrator's role away from yourself"),
    ("col-east-1", {"display_name": "x", "role": "collector"}, 422, "a collector needs a team"),
    ("col-east-1", {"display_name": "  ", "role": "collector", "team_id": "team-east"}, 422,
     "display name cannot be blank"),
    ("col-east-1", {"display_name": "x", "role": "collector", "team_id": "no-such-team"}, 422,
     "team 'no-such-team' does not exist"),
    ("agency-hz-1", {"display_name": "x", "role": "agency", "agency_id": "no-such"}, 422,
     "agency 'no-such' does not exist"),
    ("nobody", {"display_name": "x", "role": "legal"}, 404, "user 'nobody' is not known"),
]  # fmt: skip


@pytest.mark.parametrize(("user_id", "body", "status", "problem"), CHANGES_REFUSED)
def test_a_change_outside_the_rules_is_refused_by_name_with_nothing_written(
    staffed: Desk, user_id: str, body: dict[str, str], status: int, problem: str
) -> None:
    admin = staffed.bearer("admin")
    client, csrf = staffed.signed_in("admin")
    client.post("/me/locale", data={"locale": "en", "csrf_token": csrf})
    before = audit_count(staffed)
    was = staffed.app.identity.user(user_id)
    api = staffed.client().put(f"/api/v1/users/{user_id}", headers=admin, json=body)
    assert api.status_code == status, api.text
    assert problem in api.json()["error"]
    page = client.post(f"/admin/users/{user_id}", headers={"X-CSRF-Token": csrf}, data=body)
    assert page.status_code == status
    assert problem in unescape(page.text)
    assert staffed.app.identity.user(user_id) == was
    assert audit_count(staffed) == before


def test_only_an_administrator_changes_users(staffed: Desk) -> None:
    supervisor = staffed.bearer("sup-east")
    refused = staffed.client().put("/api/v1/users/col-east-1", headers=supervisor, json=MOVE)
    assert refused.status_code == 403
    password = staffed.client().put("/api/v1/users/col-east-1/password", headers=supervisor,
                                    json={"password": NEW_PASSWORD})  # fmt: skip
    assert password.status_code == 403
    page, csrf = staffed.signed_in("sup-east")
    forms = {
        "/admin/users/col-east-1": MOVE,
        "/admin/users/col-east-1/password": {"password": NEW_PASSWORD},
    }
    for path, form in forms.items():
        assert page.post(path, headers={"X-CSRF-Token": csrf}, data=form).status_code == 403
    old = {"user_id": "col-east-1", "password": DEMO_PASSWORD, "name": "t"}
    assert staffed.client().post("/api/v1/tokens", json=old).status_code == 201
    stored = staffed.app.identity.user("col-east-1")
    assert stored is not None
    assert stored.team_id == "team-east"


def test_a_collector_moved_away_gives_their_cases_back_to_the_team_pool(desk: Desk) -> None:
    def held(collector: str) -> list[tuple[str, str | None]]:
        a = assignments.c
        query = select(a.team_id, a.collector_id).where(a.collector_id == collector)
        with desk.app.engine.connect() as conn:
            return [(row.team_id, row.collector_id) for row in conn.execute(query)]

    cases = len(held("col-east-1"))
    assert cases > 0  # the desk balanced its cases among the collectors
    admin = desk.bearer("admin")
    kept = {**MOVE, "team_id": "team-east", "display_name": "李娜"}
    assert desk.client().put("/api/v1/users/col-east-1", headers=admin, json=kept).is_success
    assert len(held("col-east-1")) == cases  # a new name alone keeps the cases
    moved = desk.client().put("/api/v1/users/col-east-1", headers=admin,
                              json={**kept, "team_id": "team-west"})  # fmt: skip
    assert moved.status_code == 200
    assert held("col-east-1") == []
    with desk.app.engine.connect() as conn:
        pool = conn.execute(
            select(func.count()).where(
                assignments.c.team_id == "team-east", assignments.c.collector_id.is_(None)
            )
        ).scalar_one()
    assert pool >= cases
    [*_, (_, detail)] = updates(desk, "col-east-1")
    assert detail == {"team_id": ["team-east", "team-west"], "cases_returned": cases}


def test_a_reset_password_ends_the_users_sessions_and_tokens(staffed: Desk) -> None:
    page, _ = staffed.signed_in("col-east-1")
    token = staffed.bearer("col-east-1")
    assert page.get("/queue").status_code == 200
    admin, csrf = staffed.signed_in("admin")
    done = admin.post("/admin/users/col-east-1/password", headers={"X-CSRF-Token": csrf},
                      data={"password": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 200, done.text
    assert "已重置密码" in done.text
    assert page.get("/queue", follow_redirects=False).status_code == 303  # to the log-in page
    assert staffed.client().get("/api/v1/queue", headers=token).status_code == 401
    old = {"user_id": "col-east-1", "password": DEMO_PASSWORD, "name": "t"}
    assert staffed.client().post("/api/v1/tokens", json=old).status_code == 401
    new = staffed.client().post("/api/v1/tokens", json={**old, "password": NEW_PASSWORD})
    assert new.status_code == 201
    [entry] = [e.entry for e in staffed.app.audit_log.entries(subject="user:col-east-1")
               if e.entry.action == "user.password"]  # fmt: skip
    assert (entry.actor, entry.detail) == ("admin", {})  # never the password


def test_a_reset_password_is_refused_when_short_blank_or_for_nobody(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    before = audit_count(staffed)
    for user_id, password, status in (("col-east-1", "short", 422),
                                      ("col-east-1", " " * 12, 422),
                                      ("nobody", NEW_PASSWORD, 404)):  # fmt: skip
        answer = staffed.client().put(f"/api/v1/users/{user_id}/password", headers=admin,
                                      json={"password": password})  # fmt: skip
        assert answer.status_code == status, (user_id, password, answer.text)
    assert audit_count(staffed) == before
    kept = {"user_id": "col-east-1", "password": DEMO_PASSWORD, "name": "t"}
    assert staffed.client().post("/api/v1/tokens", json=kept).status_code == 201


@pytest.mark.parametrize("typed", ["Col-East-1", "COL-EAST-1"])
def test_sign_in_is_blind_to_case(staffed: Desk, typed: str) -> None:
    answer = staffed.client().post(
        "/api/v1/tokens", json={"user_id": typed, "password": DEMO_PASSWORD, "name": "t"}
    )
    assert answer.status_code == 201, answer.text
    issued = [e.entry for e in staffed.app.audit_log.entries(subject="user:col-east-1")]
    assert issued[-1].action == "token.issue"


def test_the_log_in_form_takes_a_user_id_with_spaces_around_it(staffed: Desk) -> None:
    client, _ = staffed.signed_in(" Col-East-1 ")  # typed by a person, copied with spaces
    assert "催收员 李娜" in client.get("/queue").text
    logins = [e.entry for e in staffed.app.audit_log.entries(subject="user:col-east-1")
              if e.entry.action == "login"]  # fmt: skip
    assert [e.actor for e in logins] == ["col-east-1"]


def test_failed_sign_ins_in_any_case_count_against_one_throttle(staffed: Desk) -> None:
    client = staffed.client()
    for typed in ("col-east-1", "COL-EAST-1", "Col-East-1", "COL-east-1", "cOl-east-1"):
        body = {"user_id": typed, "password": "wrong-password", "name": "t"}
        client.post("/api/v1/tokens", json=body)
    right = {"user_id": "col-east-1", "password": DEMO_PASSWORD, "name": "t"}
    throttled = client.post("/api/v1/tokens", json=right)
    assert throttled.status_code == 429, throttled.text


def test_a_collector_disabled_gives_their_cases_back_to_the_team_pool(desk: Desk) -> None:
    a = assignments.c
    mine = select(func.count()).where(a.collector_id == "col-east-2")
    with desk.app.engine.connect() as conn:
        cases = conn.execute(mine).scalar_one()
    assert cases > 0
    off = desk.client().put("/api/v1/users/col-east-2/active", headers=desk.bearer("admin"),
                            json={"active": False})  # fmt: skip
    assert off.status_code == 200
    with desk.app.engine.connect() as conn:
        assert conn.execute(mine).scalar_one() == 0
    [entry] = [e.entry for e in desk.app.audit_log.entries(subject="user:col-east-2")
               if e.entry.action == "user.disable"]  # fmt: skip
    assert entry.detail == {"cases_returned": cases}


def test_an_administrator_creates_a_team_and_an_agency(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    made = staffed.client().post("/api/v1/teams", headers=admin,
                                 json={"team_id": "team-north", "name": "华北三组"})  # fmt: skip
    assert made.status_code == 201, made.text
    client, csrf = staffed.signed_in("admin")
    agency = {"agency_id": "agency-sh", "name": "上海某资产", "commission": "0.2"}
    page = client.post("/admin/agencies", headers={"X-CSRF-Token": csrf}, data=agency)
    assert page.status_code == 200, page.text
    assert "已创建委外机构" in page.text
    listed = staffed.client().get("/api/v1/teams", headers=admin).json()
    assert {"team_id": "team-north", "name": "华北三组"} in listed["teams"]
    assert {"agency_id": "agency-sh", "name": "上海某资产", "commission": "0.2",
            "listed": False, "evaluated_on": None} in listed["agencies"]  # fmt: skip
    shown = client.get("/admin/users").text
    assert "华北三组" in shown
    assert "上海某资产" in shown
    # The commission as a reader reads a share: 20%, not 0.2 (the API keeps the share).
    row = shown.split('id="agency-agency-sh">', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">20%</td>' in row
    # A collector can now join the new team.
    body = {"display_name": "催收员 李娜", "role": "collector", "team_id": "team-north"}
    assert staffed.client().put("/api/v1/users/col-east-1", headers=admin, json=body).is_success


PLACES_REFUSED = [
    ("/api/v1/teams", {"team_id": "team-east", "name": "again"}, 422, "the id is taken"),
    ("/api/v1/teams", {"team_id": "Team-X", "name": "x"}, 422, "team id 'Team-X' is not allowed"),
    ("/api/v1/teams", {"team_id": "t1", "name": " "}, 422, "a team's name cannot be blank"),
    ("/api/v1/agencies", {"agency_id": "a1", "name": "x", "commission": "18%"}, 422,
     "commission '18%' is not allowed"),
    ("/api/v1/agencies", {"agency_id": "agency-hz", "name": "x", "commission": "0.1"}, 422,
     "the id is taken"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "status", "problem"), PLACES_REFUSED)
def test_a_team_or_agency_outside_the_rules_is_refused_with_nothing_written(
    staffed: Desk, path: str, body: dict[str, str], status: int, problem: str
) -> None:
    admin = staffed.bearer("admin")
    before = audit_count(staffed)
    listed = staffed.client().get("/api/v1/teams", headers=admin).json()
    answer = staffed.client().post(path, headers=admin, json=body)
    assert answer.status_code == status, answer.text
    assert problem in answer.json()["error"]
    assert staffed.client().get("/api/v1/teams", headers=admin).json() == listed
    assert audit_count(staffed) == before


def test_only_an_administrator_creates_teams_and_agencies(staffed: Desk) -> None:
    supervisor = staffed.bearer("sup-east")
    asked = {
        "/api/v1/teams": {"team_id": "t9", "name": "x"},
        "/api/v1/agencies": {"agency_id": "a9", "name": "x", "commission": "0.1"},
    }
    for path, body in asked.items():
        assert staffed.client().post(path, headers=supervisor, json=body).status_code == 403
    assert staffed.client().get("/api/v1/teams", headers=supervisor).status_code == 403
    page, csrf = staffed.signed_in("sup-east")
    refused = page.post("/admin/teams", headers={"X-CSRF-Token": csrf},
                        data={"team_id": "t9", "name": "x"})  # fmt: skip
    assert refused.status_code == 403
    assert [t for t, _ in staffed.app.identity.teams()] == ["team-east", "team-west"]


class ResetDuringCheck:
    """A hasher whose check of a password lets an administrator reset it meanwhile (a sign-in
    under way when the reset commits)."""

    def __init__(self, desk: Desk) -> None:
        self.desk, self.inner = desk, desk.app.passwords

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        matches = self.inner.verify(stored, password)
        admin = self.desk.app.identity.user("admin")
        assert admin is not None
        reset_password(self.desk.app.identity, self.inner, admin.principal(), "col-east-1",
                       NEW_PASSWORD, self.desk.now)  # fmt: skip
        return matches


def test_a_sign_in_under_way_when_the_password_is_reset_opens_nothing(staffed: Desk) -> None:
    store, racing = staffed.app.identity, ResetDuringCheck(staffed)
    grant = sign_in(store, racing, "col-east-1", DEMO_PASSWORD, "test", staffed.now)
    assert session_user(store, grant.token, staffed.now) is None
    user = authenticate(store, racing, "col-east-1", NEW_PASSWORD, "test", staffed.now)
    token = issue_token(store, user, "client", 30, staffed.now)  # reset again meanwhile
    assert token_user(store, token, staffed.now) is None
    fresh = sign_in(store, staffed.app.passwords, "col-east-1", NEW_PASSWORD, "t", staffed.now)
    assert session_user(store, fresh.token, staffed.now) is not None


def test_the_store_never_leaves_the_users_without_an_active_administrator(
    staffed: Desk,
) -> None:
    """The store's own guard, step by step: it refuses the change that would leave no active
    administrator (two administrators at once: test_admin_races.py)."""
    store = staffed.app.identity
    setup = AuditEntry(staffed.now, "setup", "user.update", "user:admin", {})
    admin = store.user("admin")
    assert admin is not None
    before = audit_count(staffed)
    with pytest.raises(IdentityConflict, match="no active administrator would be left"):
        store.update_user(replace(admin, role=Role.LEGAL), setup)
    with pytest.raises(IdentityConflict, match="no active administrator would be left"):
        store.set_active("admin", False, setup)
    assert store.user("admin") == admin
    assert audit_count(staffed) == before
    second = staffed.client().post("/api/v1/users", headers=staffed.bearer("admin"), json={
        "user_id": "admin-2", "display_name": "二号管理员", "role": "admin",
        "password": DEMO_PASSWORD})  # fmt: skip
    assert second.status_code == 201
    store.update_user(replace(admin, role=Role.LEGAL), setup)  # another remains: allowed
    demoted = store.user("admin")
    assert demoted is not None
    assert demoted.role is Role.LEGAL


def test_a_reset_password_lifts_the_throttle_its_guessers_caused(staffed: Desk) -> None:
    client = staffed.client()
    right = {"user_id": "col-east-1", "password": DEMO_PASSWORD, "name": "t"}
    for _ in range(6):
        client.post("/api/v1/tokens", json={**right, "password": "guessing-123"})
    assert client.post("/api/v1/tokens", json=right).status_code == 429
    staffed.client().put("/api/v1/users/col-east-1/password", headers=staffed.bearer("admin"),
                         json={"password": NEW_PASSWORD})  # fmt: skip
    assert (
        client.post("/api/v1/tokens", json={**right, "password": NEW_PASSWORD}).status_code == 201
    )


def test_a_case_goes_only_to_an_active_collector_of_its_team(desk: Desk) -> None:
    a = assignments.c
    with desk.app.engine.connect() as conn:
        loan_id = str(conn.execute(select(a.loan_id).where(a.team_id == "team-east")).scalar())
    admin = desk.bearer("admin")

    def give(collector: str) -> int:
        body = {"team_id": "team-east", "collector_id": collector}
        path = f"/api/v1/cases/{loan_id}/assignment"
        return desk.client().put(path, headers=admin, json=body).status_code

    assert give("col-west-1") == 422  # another team's
    off = {"active": False}
    assert desk.client().put("/api/v1/users/col-east-2/active", headers=admin, json=off).is_success
    assert give("col-east-2") == 422  # disabled
    assert give("col-east-1") == 200
    # The store checks it in the transaction that writes (the service asks nothing first).
    setup = AuditEntry(desk.now, "setup", "case.assign", f"loan:{loan_id}", {})
    with pytest.raises(ValueError, match="'col-east-2' is not an active collector"):
        desk.app.desk.assign(loan_id, "team-east", "col-east-2", desk.now.date(), "x", setup)
    with desk.app.engine.connect() as conn:
        held = conn.execute(select(a.collector_id).where(a.loan_id == loan_id)).scalar()
    assert held == "col-east-1"  # the refused write left the case as it was


def test_a_user_spelled_exactly_is_not_shadowed_by_an_older_id_in_capitals(
    staffed: Desk,
) -> None:
    # A book made before the id rule may hold "COL-EAST-1" (here col-east-2 renamed) beside
    # "col-east-1"; their passwords are the same here, so the id tells which signed in.
    with staffed.app.engine.begin() as conn:
        conn.execute(users.update().where(users.c.user_id == "col-east-2")
                     .values(user_id="COL-EAST-1"))  # fmt: skip
    store = staffed.app.identity
    grant = sign_in(store, staffed.app.passwords, "col-east-1", DEMO_PASSWORD, "t", staffed.now)
    assert grant.user.user_id == "col-east-1"


def test_balancing_passes_over_a_collector_who_left_meanwhile(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loads are read, then col-east-2 is disabled before the cases are written: the
    store refuses each case given to them, and balancing gives it to the others."""
    store = desk.app.desk
    read = store.workloads

    def then_disabled(teams: list[str]) -> dict[str, tuple[str, int]]:
        loads = read(teams)
        with desk.app.engine.begin() as conn:  # committed between the read and the writes
            conn.execute(users.update().where(users.c.user_id == "col-east-2")
                         .values(active=False))  # fmt: skip
        return loads

    with desk.app.engine.begin() as conn:  # every case of team-east back in its pool
        conn.execute(assignments.update().where(assignments.c.team_id == "team-east")
                     .values(collector_id=None))  # fmt: skip
    monkeypatch.setattr(store, "workloads", then_disabled)
    admin = desk.app.identity.user("admin")
    assert admin is not None
    given = balance_queue(store, admin.principal(), ["team-east"], desk.now.date(), desk.now)
    assert set(given) == {"col-east-1"}
    assert given["col-east-1"] > 0
    with desk.app.engine.connect() as conn:
        theirs = conn.execute(select(func.count()).where(
            assignments.c.collector_id == "col-east-2")).scalar_one()  # fmt: skip
    assert theirs == 0

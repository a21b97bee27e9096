"""What the administrator's forms and the API refuse, on SQLite and on PostgreSQL: NUL
characters, user ids outside the rule, blank names and passwords, roles with the wrong team or
agency, unknown users; each by name, with nothing written."""

import pytest
from sqlalchemy import func, select

from arrears.adapters.db.casework_tables import audit_log, users
from arrears.domain.access import Role
from arrears.entrypoints.demo_staff import DEMO_PASSWORD
from arrears.services.casework_ports import UserRecord
from arrears.services.identity import create_user
from tests.entrypoints.web.desk_book import Desk

NEW = {"user_id": "col-east-9", "display_name": "催收员 新", "role": "collector",
       "password": DEMO_PASSWORD, "team_id": "team-east"}  # fmt: skip


def written(desk: Desk) -> tuple[int, int]:
    """How many users and audit entries the store holds."""
    with desk.app.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(users)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    return count, entries


def test_a_nul_in_a_json_or_form_field_is_refused_by_name(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    client, csrf = staffed.signed_in("admin")
    before = written(staffed)
    for field in ("user_id", "display_name", "password", "team_id"):
        body = {**NEW, field: NEW[field][:3] + "\x00x"}
        answer = staffed.client().post("/api/v1/users", headers=admin, json=body)
        assert answer.status_code == 422, answer.text
        assert f"body.{field}" in answer.json()["error"]
        assert "NUL" in answer.json()["error"]
        page = client.post("/admin/users", headers={"X-CSRF-Token": csrf}, data=body)
        assert page.status_code == 422, page.text
        assert f"body.{field}" in page.text
    assert written(staffed) == before


def test_a_nul_in_the_sign_in_form_or_a_token_request_is_refused(staffed: Desk) -> None:
    page = staffed.client().post(
        "/login", data={"user_id": "admin\x00", "password": DEMO_PASSWORD, "prelogin": "x"}
    )
    assert page.status_code == 422
    assert "body.user_id" in page.text
    for body in (
        {"user_id": "admin\x00", "password": DEMO_PASSWORD, "name": "t"},
        {"user_id": "admin", "password": DEMO_PASSWORD, "name": "t\x00"},
    ):
        answer = staffed.client().post("/api/v1/tokens", json=body)
        assert answer.status_code == 422, answer.text


def test_a_token_request_names_its_user_with_spaces_around_as_the_sign_in_does(
    staffed: Desk,
) -> None:
    # CASEWORK.md: a sign-in names its user in any case and with spaces around it; the API
    # refused "Col-East-1 " by its id pattern (found by helper-112).
    body = {"user_id": " Col-East-1 ", "password": DEMO_PASSWORD, "name": "phone"}
    answer = staffed.client().post("/api/v1/tokens", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["user_id"] == "col-east-1"


def test_a_nul_in_a_search_box_or_a_path_is_refused(staffed: Desk) -> None:
    client, csrf = staffed.signed_in("admin")
    for path in ("/audit?subject=user:%00", "/queue?stage=a%00", "/queue?bucket=%00"):
        answer = client.get(path)
        assert answer.status_code == 422, path
        assert "query." in answer.text
    before = written(staffed)
    moved = client.post(
        "/admin/users/col%00x/active", headers={"X-CSRF-Token": csrf}, data={"active": "false"}
    )
    assert moved.status_code == 422
    assert "path.user_id" in moved.text
    assert written(staffed) == before


BAD_IDS = ["Alice", "ALICE", "..", ".", "-x", "_x", "a/b", "a b", " alice", "a\tb", "a:b", "x" * 65]


def test_a_user_id_outside_the_rule_is_refused_by_the_rule(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    client, csrf = staffed.signed_in("admin")
    before = written(staffed)
    for user_id in BAD_IDS:
        body = {**NEW, "user_id": user_id}
        api = staffed.client().post("/api/v1/users", headers=admin, json=body)
        assert api.status_code == 422, (user_id, api.text)
        assert "lower-case letters, digits" in api.json()["error"], user_id
        page = client.post("/admin/users", headers={"X-CSRF-Token": csrf}, data=body)
        assert page.status_code == 422, user_id
    assert written(staffed) == before


def test_user_ids_differing_in_case_are_one_user(staffed: Desk) -> None:
    # A user created before the rule with capitals still takes its lower-case id.
    admin = staffed.bearer("admin")
    assert (
        staffed.client()
        .post("/api/v1/users", headers=admin, json={**NEW, "user_id": "alice"})
        .status_code
        == 201
    )
    taken = staffed.client().post("/api/v1/users", headers=admin, json={**NEW, "user_id": "alice"})
    assert taken.status_code == 422
    assert "'alice' is taken" in taken.json()["error"]
    with staffed.app.engine.begin() as conn:
        conn.execute(users.update().where(users.c.user_id == "alice").values(user_id="Bob"))
    before = written(staffed)
    with pytest.raises(ValueError, match="'bob' is taken"):
        create_user(staffed.app.identity, staffed.app.passwords, None,
                    _record("bob"), DEMO_PASSWORD, staffed.now)  # fmt: skip
    assert written(staffed) == before


def _record(user_id: str) -> UserRecord:
    return UserRecord(user_id, "someone", Role.COLLECTOR, "", team_id="team-east")


BLANKS = [
    ("display_name", "   ", "display name"),
    ("display_name", "\u3000\t", "display name"),
    ("password", " " * 12, "password"),
    ("password", "\t\u3000" * 6, "password"),
]


def test_blank_names_and_passwords_are_refused_by_name(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    client, csrf = staffed.signed_in("admin")
    before = written(staffed)
    for field, value, named in BLANKS:
        api = staffed.client().post("/api/v1/users", headers=admin, json={**NEW, field: value})
        assert api.status_code == 422, api.text
        assert named in api.json()["error"]
        page = client.post(
            "/admin/users", headers={"X-CSRF-Token": csrf}, data={**NEW, field: value}
        )
        assert page.status_code == 422
    assert written(staffed) == before


COMBINATIONS = [
    ("agency", None, None, "needs the agency"),
    ("agency", "team-east", "agency-hz", "only collectors and supervisors belong to a team"),
    ("collector", "team-east", "agency-hz", "only agency users work for an agency"),
    ("supervisor", "team-east", "agency-hz", "only agency users work for an agency"),
    ("admin", None, "agency-hz", "only agency users work for an agency"),
    ("compliance", "team-east", None, "only collectors and supervisors belong to a team"),
    ("legal", "team-west", None, "only collectors and supervisors belong to a team"),
    ("collector", None, None, "a collector needs a team"),
    ("supervisor", None, None, "a supervisor needs a team"),
    ("collector", "no-such-team", None, "team 'no-such-team' does not exist"),
    ("agency", None, "no-such-agency", "agency 'no-such-agency' does not exist"),
]


def test_a_role_with_the_wrong_team_or_agency_is_refused(staffed: Desk) -> None:
    admin = staffed.bearer("admin")
    before = written(staffed)
    for role, team_id, agency_id, problem in COMBINATIONS:
        body = {**NEW, "role": role, "team_id": team_id, "agency_id": agency_id}
        api = staffed.client().post("/api/v1/users", headers=admin, json=body)
        assert api.status_code == 422, api.text
        assert problem in api.json()["error"], (role, team_id, agency_id)
    assert written(staffed) == before


@pytest.mark.parametrize("active", [True, False])
def test_an_unknown_user_is_not_found_by_name(staffed: Desk, active: bool) -> None:
    before = written(staffed)
    api = staffed.client().put(
        "/api/v1/users/nobody/active", headers=staffed.bearer("admin"), json={"active": active}
    )
    assert api.status_code == 404, api.text
    assert "'nobody'" in api.json()["error"]
    client, csrf = staffed.signed_in("admin")
    page = client.post(
        "/admin/users/nobody/active",
        headers={"X-CSRF-Token": csrf},
        data={"active": str(active).lower()},
    )
    assert page.status_code == 404
    assert "nobody" in page.text
    assert written(staffed) == (before[0], before[1] + 2)  # the two sign-ins, nothing else

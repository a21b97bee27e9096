"""What the administrator's forms and the API refuse, on SQLite and on PostgreSQL: NUL
characters, user ids outside the rule, blank names and passwords, roles with the wrong team or
agency, unknown users; each by name, with nothing written."""

from sqlalchemy import func, select

from arrears.adapters.db.casework_tables import audit_log, users
from arrears.entrypoints.demo_staff import DEMO_PASSWORD
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

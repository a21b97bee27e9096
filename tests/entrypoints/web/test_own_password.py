"""A signed-in user changes their own password, given the one in use (on SQLite and
PostgreSQL): every session and API token of theirs ends; a wrong password in use is a failed
log-in, audited and throttled; anything refused writes nothing."""

import html
import re

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from arrears.domain.access import Principal, Role
from arrears.domain.errors import Refusal
from arrears.entrypoints.demo_staff import DEMO_PASSWORD
from arrears.services.identity import USER_FAILURES_MAX
from arrears.services.own_password import change_own_password
from arrears.services.user_admin import reset_password
from tests.entrypoints.web.desk_book import Desk

NEW = "a-new-secret-2026"
ADMIN = Principal("admin", Role.ADMIN, None, None)


def sign_in(desk: Desk, user_id: str, password: str) -> tuple[TestClient, int]:
    """A client after the log-in form with this password, and the form's answer's status."""
    client = desk.client()
    form = re.search(r'name="prelogin" value="([^"]+)"', client.get("/login").text)
    assert form is not None
    answer = client.post("/login", data={"user_id": user_id, "password": password,
                                         "prelogin": form.group(1)},
                         follow_redirects=False)  # fmt: skip
    return client, answer.status_code


def change(
    client: TestClient, csrf: str, current: str, new: str, repeated: str | None = None
) -> Response:
    """Post the form."""
    return client.post("/me/password", data={
        "csrf_token": csrf, "current": current, "new": new,
        "repeated": new if repeated is None else repeated,
    }, follow_redirects=False)  # fmt: skip


def actions(desk: Desk, user_id: str) -> list[tuple[str, str, dict[str, object]]]:
    """The audit log's entries about the user: (actor, action, detail)."""
    return [(e.entry.actor, e.entry.action, dict(e.entry.detail))
            for e in desk.app.audit_log.entries(subject=f"user:{user_id}")]  # fmt: skip


def test_a_user_changes_their_password_and_every_session_and_token_ends(staffed: Desk) -> None:
    client, csrf = staffed.signed_in("col-east-1")
    other, _ = staffed.signed_in("col-east-1")  # another browser
    token = staffed.bearer("col-east-1")
    page = client.get("/me/password")
    assert page.status_code == 200
    assert "修改密码" in page.text
    assert 'href="/me/password"' in client.get("/queue").text  # from every page's header
    done = change(client, csrf, DEMO_PASSWORD, NEW)
    assert done.status_code == 303
    assert done.headers["location"] == "/login?changed=1"
    assert "密码已修改，请用新密码登录。" in client.get("/login?changed=1").text
    for browser in (client, other):
        assert browser.get("/queue", follow_redirects=False).status_code == 303  # signed out
    assert staffed.client().get("/api/v1/me", headers=token).status_code == 401
    assert sign_in(staffed, "col-east-1", DEMO_PASSWORD)[1] == 401
    assert sign_in(staffed, "col-east-1", NEW)[1] == 303
    assert ("col-east-1", "user.password", {"own": True}) in actions(staffed, "col-east-1")
    assert NEW not in str(actions(staffed, "col-east-1"))


REFUSED = [
    ("wrong-password-0", NEW, None, "当前密码不正确"),
    (DEMO_PASSWORD, NEW, NEW + "x", "两次输入的新密码不一致，请重新输入"),
    (DEMO_PASSWORD, "short", None, "密码至少"),
    (DEMO_PASSWORD, "\u200b" * 12, None, "密码不能为空"),
    (DEMO_PASSWORD, DEMO_PASSWORD, None, "新密码与当前密码相同，请另选一个"),
]  # fmt: skip


@pytest.mark.parametrize(("current", "new", "repeated", "problem"), REFUSED)
def test_a_change_refused_leaves_the_password_and_the_session_as_they_were(
    staffed: Desk, current: str, new: str, repeated: str | None, problem: str
) -> None:
    client, csrf = staffed.signed_in("col-east-1")
    before = staffed.app.identity.user("col-east-1")
    refused = change(client, csrf, current, new, repeated)
    assert refused.status_code == 422
    assert problem in html.unescape(refused.text)
    assert staffed.app.identity.user("col-east-1") == before  # the same hash
    assert client.get("/queue", follow_redirects=False).status_code == 200  # still signed in
    changes = [a for a in actions(staffed, "col-east-1") if a[1] == "user.password"]
    assert changes == []


def test_guessing_the_password_in_use_is_throttled_as_sign_in_is(staffed: Desk) -> None:
    # A session left open is no way to guess the password: each wrong one is a failed
    # log-in, audited, and counts against the user's throttle.
    client, csrf = staffed.signed_in("col-east-1")
    for n in range(USER_FAILURES_MAX):
        assert change(client, csrf, f"guess-number-{n}", NEW).status_code == 422
    throttled = change(client, csrf, DEMO_PASSWORD, NEW)  # even the right one, now
    assert throttled.status_code == 429
    assert "登录失败次数过多" in throttled.text
    failed = [a for a in actions(staffed, "col-east-1") if a[1] == "login.failed"]
    assert len(failed) == USER_FAILURES_MAX
    assert sign_in(staffed, "col-east-1", DEMO_PASSWORD)[1] == 429


def test_the_form_needs_a_session_and_its_csrf_token(staffed: Desk) -> None:
    anonymous = staffed.client().get("/me/password", follow_redirects=False)
    assert anonymous.headers["location"] == "/login?next=/me/password"
    client, _ = staffed.signed_in("col-east-1")
    forged = change(client, "not-the-token", DEMO_PASSWORD, NEW)
    assert forged.status_code == 403
    assert sign_in(staffed, "col-east-1", DEMO_PASSWORD)[1] == 303  # unchanged


def test_an_administrators_reset_meanwhile_is_not_undone_by_the_change(staffed: Desk) -> None:
    # The account is compromised: the administrator resets it while a request of whoever
    # knows the old password is hashing its new one. The reset stands.
    app = staffed.app
    user = app.identity.user("col-east-1")
    assert user is not None

    class ResetMeanwhile:
        """The app's hasher, an administrator's reset landing while it hashes."""

        def hash(self, password: str) -> str:
            reset_password(app.identity, app.passwords, ADMIN, "col-east-1", "admin-chosen-99",
                           staffed.now)  # fmt: skip
            return app.passwords.hash(password)

        def verify(self, stored: str, password: str) -> bool:
            return app.passwords.verify(stored, password)

    with pytest.raises(Refusal, match="your password was changed meanwhile"):
        change_own_password(app.identity, ResetMeanwhile(), user, DEMO_PASSWORD, NEW, "test",
                            staffed.now)  # fmt: skip
    assert sign_in(staffed, "col-east-1", "admin-chosen-99")[1] == 303
    assert sign_in(staffed, "col-east-1", NEW)[1] == 401
    changes = [a for a in actions(staffed, "col-east-1") if a[1] == "user.password"]
    assert changes == [("admin", "user.password", {})]


def test_an_api_token_cannot_change_the_password(staffed: Desk) -> None:
    token = staffed.bearer("col-east-1")
    refused = staffed.client().post("/me/password", headers=token, follow_redirects=False,
                                    data={"current": DEMO_PASSWORD, "new": NEW,
                                          "repeated": NEW})  # fmt: skip
    assert refused.status_code == 403
    assert sign_in(staffed, "col-east-1", DEMO_PASSWORD)[1] == 303
    assert staffed.client().get("/api/v1/me", headers=token).status_code == 200

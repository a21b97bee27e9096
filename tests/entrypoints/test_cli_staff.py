"""`arrears staff`: a new installation's first administrator, teams and agencies at the console
(on SQLite and PostgreSQL); the administrator then signs in on the web; bad input refused by
name with nothing written."""

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from arrears.adapters.db.casework_tables import agencies, audit_log, teams, users
from arrears.bootstrap import build_app
from arrears.domain.audit_chain import verify_chain
from arrears.entrypoints.cli import app as cli_app
from arrears.entrypoints.web.app import create_app
from tests.entrypoints.cli_ok import cli_ok, runner

PASSWORD = "first-admin-2026"


def staff(*args: str, db: str, stdin: str | None = None) -> tuple[int, str, str]:
    """`arrears staff ARGS --db DB`: exit code, stdout, stderr."""
    result = runner.invoke(cli_app, ["staff", *args, "--db", db], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def counts(db: str) -> tuple[int, ...]:
    """How many teams, agencies, users and audit entries the store holds."""
    app = build_app(db, None)
    try:
        with app.engine.connect() as conn:
            return tuple(
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (teams, agencies, users, audit_log)
            )
    finally:
        app.close()


def test_a_new_installation_gets_its_people_at_the_console(store_url: str) -> None:
    cli_ok("init", db=store_url)
    assert staff("team", "team-east", "--name", "华东一组", db=store_url)[0] == 0
    agency = staff("agency", "agency-hz", "--name", "杭州信达", "--commission", "0.18",
                   db=store_url)  # fmt: skip
    assert agency[0] == 0, agency[2]
    code, printed, said = staff("user", "admin", "--name", "系统管理员", "--role", "admin",
                                "--password-stdin", "--json", db=store_url,
                                stdin=PASSWORD + "\n")  # fmt: skip
    assert code == 0, said
    assert '"role": "admin"' in printed
    code, _, said = staff("user", "col-1", "--name", "催收员 李娜", "--role", "collector",
                          "--team", "team-east", "--password-stdin", db=store_url,
                          stdin=PASSWORD + "\n")  # fmt: skip
    assert code == 0, said
    listed = cli_ok("staff", "list", "--json", db=store_url)["users"]
    assert [(u["user_id"], u["role"], u["team_id"]) for u in listed] == [  # type: ignore[attr-defined]
        ("admin", "admin", None), ("col-1", "collector", "team-east")
    ]  # fmt: skip
    # The administrator signs in on the web with the password given at the console.
    app = build_app(store_url, None)
    try:
        web = TestClient(create_app(app, clock=lambda: datetime.now(UTC)))
        form = web.get("/login").text
        token = re.search(r'name="prelogin" value="([^"]+)"', form)
        assert token is not None
        signed = web.post("/login", data={"user_id": "admin", "password": PASSWORD,
                                          "prelogin": token.group(1)},
                          follow_redirects=False)  # fmt: skip
        assert signed.status_code == 303
        assert "华东一组" in web.get("/admin/users").text
        entries = [e.entry for e in app.audit_log.entries(subject="agency:agency-hz")]
        assert [(e.actor, e.action, e.detail) for e in entries] == [
            (
                "setup",
                "agency.create",
                {"name": "杭州信达", "commission": "0.18", "listed": False, "evaluated_on": None},
            )
        ]
    finally:
        app.close()


REFUSED = [
    (("team", "Team-East", "--name", "x"), None, 1, "team id 'Team-East' is not allowed"),
    (("team", "t1", "--name", "  "), None, 1, "a team's name cannot be blank"),
    (("team", "t1", "--name", "组" * 101), None, 1, "longer than 100 characters"),
    (("agency", "a1", "--name", "x", "--commission", "0.１８"), None, 1,
     "commission '0.１８' is not allowed"),
    (("user", "admin", "--name", "管" * 101, "--role", "admin", "--password-stdin"), PASSWORD,
     1, "a name has at most 100 characters"),
    (("agency", "a1", "--name", "x", "--commission", "1.5"), None, 1,
     "commission '1.5' is not allowed"),
    (("agency", "a1", "--name", "x", "--commission", "0.123456"), None, 1,
     "commission '0.123456' is not allowed"),
    (("agency", "a b", "--name", "x", "--commission", "0.1"), None, 1,
     "agency id 'a b' is not allowed"),
    (("user", "admin", "--name", "x", "--role", "boss", "--password-stdin"), PASSWORD, 2,
     "--role: 'boss' is not one of"),
    (("user", "admin", "--name", "x", "--role", "admin", "--password-stdin"), "short", 1,
     "a password has at least 10 characters"),
    (("user", "admin", "--name", "x", "--role", "admin", "--password-stdin"), "", 2,
     "--password-stdin: stdin is empty"),
    (("user", "admin", "--name", "x", "--role", "admin"), PASSWORD, 2,
     "no terminal to ask for the password on"),
    (("user", "c1", "--name", "x", "--role", "collector", "--team", "nope", "--password-stdin"),
     PASSWORD, 1, "team 'nope' does not exist"),
    (("user", "Admin", "--name", "x", "--role", "admin", "--password-stdin"), PASSWORD, 1,
     "user id 'Admin' is not allowed"),
    (("password", "nobody", "--password-stdin"), PASSWORD, 1, "user 'nobody' is not known"),
    (("agency", "a1", "--name", "x", "--commission", "0.1", "--evaluated-on", "2026-02-30"),
     None, 2, "--evaluated-on '2026-02-30' is not a date"),
    (("agency", "a1", "--name", "x", "--commission", "0.1", "--evaluated-on", "2199-01-01"),
     None, 1, "an evaluation dated 2199-01-01 is after today"),
    (("agency-evaluation", "nobody", "--on", "2026-01-15"), None, 1,
     "agency 'nobody' is not known"),
    (("agency-evaluation", "agency-hz", "--on", "15/01/2026"), None, 2,
     "--on '15/01/2026' is not a date"),
    (("agency-evaluation", "agency-hz", "--on", "2199-01-01", "--delist"), None, 1,
     "an evaluation dated 2199-01-01 is after today"),
    (("agency-commission", "nobody", "--commission", "0.2"), None, 1,
     "agency 'nobody' is not known"),
    (("agency-commission", "agency-hz", "--commission", "0.100"), None, 1,
     "agency 'agency-hz''s commission is already 0.1: nothing to change"),
    (("agency-commission", "agency-hz", "--commission", "-0.1"), None, 1,
     "commission '-0.1' is not allowed"),
    (("agency-commission", "agency-hz"), None, 2, "Missing option '--commission'"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "stdin", "code", "problem"), REFUSED)
def test_bad_input_is_refused_by_name_with_nothing_written(
    store_url: str, args: tuple[str, ...], stdin: str | None, code: int, problem: str
) -> None:
    cli_ok("init", db=store_url)
    if args[0] in ("agency-evaluation", "agency-commission"):  # an agency there to act on
        cli_ok("staff", "agency", "agency-hz", "--name", "x", "--commission", "0.1", db=store_url)
    before = counts(store_url)
    line = stdin + "\n" if stdin else stdin  # "": stdin holds nothing at all
    got, _, said = staff(*args, db=store_url, stdin=line)
    assert got == code, said
    assert problem in " ".join(said.split())
    assert counts(store_url) == before


def test_a_password_set_at_the_console_replaces_the_old_one(store_url: str) -> None:
    cli_ok("init", db=store_url)
    staff("user", "admin", "--name", "x", "--role", "admin", "--password-stdin", db=store_url,
          stdin=PASSWORD + "\n")  # fmt: skip
    # Named as sign-in names them: in any case, with spaces around.
    code, _, said = staff("password", " Admin ", "--password-stdin", db=store_url,
                          stdin="a-second-password\n")  # fmt: skip
    assert code == 0, said
    app = build_app(store_url, None)
    try:
        stored = app.identity.user("admin")
        assert stored is not None
        assert app.passwords.verify(stored.password_hash, "a-second-password")
        assert not app.passwords.verify(stored.password_hash, PASSWORD)
        [entry] = [e.entry for e in app.audit_log.entries(subject="user:admin")
                   if e.entry.action == "user.password"]  # fmt: skip
        assert (entry.actor, entry.detail) == ("setup", {})
    finally:
        app.close()


def test_a_new_installations_sign_in_page_says_how_to_make_the_first_administrator(
    store_url: str,
) -> None:
    cli_ok("init", db=store_url)

    def page() -> str:
        app = build_app(store_url, None)
        try:
            web = TestClient(create_app(app, clock=lambda: datetime.now(UTC)))
            return web.get("/login", headers={"Accept-Language": "zh-CN"}).text
        finally:
            app.close()

    assert "尚无任何用户可以登录" in page()
    assert "arrears staff user admin --name NAME --role admin" in page()
    staff("user", "admin", "--name", "x", "--role", "admin", "--password-stdin", db=store_url,
          stdin=PASSWORD + "\n")  # fmt: skip
    assert "尚无任何用户可以登录" not in page()


def test_an_agency_is_listed_and_evaluated_at_the_console(store_url: str) -> None:
    # cn.outsourcing: a case is placed only with an agency on the white list, evaluated in
    # the last 12 months (CBA 2026); the console records both, audited with the actor setup.
    cli_ok("init", db=store_url)
    code, printed, said = staff("agency", "agency-hz", "--name", "杭州信达", "--commission",
                                "0.18", "--listed", "--evaluated-on", "2026-01-15",
                                db=store_url)  # fmt: skip
    assert code == 0, said
    assert "agency agency-hz created (on the white list, evaluated 2026-01-15)" in printed
    code, printed, said = staff("agency", "agency-sh", "--name", "上海", "--commission", "0.2",
                                db=store_url)  # fmt: skip
    assert code == 0, said
    assert "agency agency-sh created (not on the white list, never evaluated)" in printed
    assert cli_ok("staff", "agencies", "--json", db=store_url)["agencies"] == [
        {"agency_id": "agency-hz", "name": "杭州信达", "commission": "0.18", "listed": True,
         "evaluated_on": "2026-01-15"},
        {"agency_id": "agency-sh", "name": "上海", "commission": "0.2", "listed": False,
         "evaluated_on": None},
    ]  # fmt: skip
    code, printed, said = staff("agency-evaluation", "agency-sh", "--on", "2026-02-01",
                                db=store_url)  # fmt: skip
    assert code == 0, said
    assert "agency agency-sh evaluated (on the white list, evaluated 2026-02-01)" in printed
    code, printed, said = staff("agency-evaluation", "agency-hz", "--on", "2026-03-01",
                                "--delist", db=store_url)  # fmt: skip
    assert code == 0, said
    assert "agency agency-hz evaluated (not on the white list, evaluated 2026-03-01)" in printed
    shown = cli_ok("staff", "agencies", "--json", db=store_url)["agencies"]
    assert [(a["agency_id"], a["listed"], a["evaluated_on"]) for a in shown] == [  # type: ignore[attr-defined]
        ("agency-hz", False, "2026-03-01"), ("agency-sh", True, "2026-02-01")
    ]  # fmt: skip
    result = runner.invoke(cli_app, ["staff", "agencies", "--db", store_url])
    assert "agency-hz" in result.stdout
    assert "not on the white list, evaluated 2026-03-01" in result.stdout
    app = build_app(store_url, None)
    try:
        entries = [e.entry for e in app.audit_log.entries(subject="agency:agency-hz")]
        assert [(e.actor, e.action, e.detail) for e in entries] == [
            ("setup", "agency.create", {"name": "杭州信达", "commission": "0.18",
                                        "listed": True, "evaluated_on": "2026-01-15"}),
            ("setup", "agency.evaluate", {"on": "2026-03-01", "listed": False}),
        ]  # fmt: skip
    finally:
        app.close()


def test_an_agencys_commission_is_changed_at_the_console(store_url: str) -> None:
    cli_ok("init", db=store_url)
    staff("agency", "agency-hz", "--name", "杭州信达", "--commission", "0.18", db=store_url)
    code, printed, said = staff("agency-commission", "agency-hz", "--commission", "0.2",
                                db=store_url)  # fmt: skip
    assert code == 0, said
    assert "agency agency-hz commission 0.18 -> 0.2 (placements from now on)" in printed
    listed = cli_ok("staff", "agencies", "--json", db=store_url)["agencies"]
    assert [a["commission"] for a in listed] == ["0.2"]  # type: ignore[attr-defined]
    app = build_app(store_url, None)
    try:
        entries = [e.entry for e in app.audit_log.entries(subject="agency:agency-hz")]
        assert [(e.actor, e.action, e.detail) for e in entries][-1] == (
            "setup", "agency.commission", {"commission": "0.2", "was": "0.18"}
        )  # fmt: skip
        assert verify_chain(app.audit_log.chain(), app.audit_log.head()).intact
    finally:
        app.close()

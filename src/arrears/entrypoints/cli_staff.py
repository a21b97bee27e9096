"""`arrears staff …`: set up the people of a new installation at the console: teams, agencies
and their evaluations, users (the first administrator among them) and a forgotten password.

Whoever holds the database may do this (the audit log names the actor `setup`); afterwards an
administrator does the same on /admin/users. cli.py adds this sub-app at its end (it reuses
cli.py's options and helpers), so import the command line through `arrears.entrypoints.cli`.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from arrears.bootstrap import App
from arrears.domain.access import Role
from arrears.domain.errors import DomainError
from arrears.entrypoints.cli_common import Config, Db, Json, fail, open_app, out, parse_day
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.presenters import agency_document, user_document
from arrears.services.casework_ports import LOCALES, UserRecord
from arrears.services.identity import create_user
from arrears.services.staff_setup import (
    create_agency,
    create_team,
    evaluate_agency,
    set_agency_commission,
)
from arrears.services.user_admin import reset_password

staff_app = typer.Typer(
    help="The people: teams, agencies, users and passwords (the first administrator too).",
    no_args_is_help=True,
    rich_markup_mode=None,  # help is text: "[channels]" must print as written
)

Name = Annotated[str, typer.Option("--name", help="The name shown (e.g. 华东一组).")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of stdin (else asked on the terminal).",
    ),
]


@staff_app.command("team")
def team_command(
    team_id: Annotated[str, typer.Argument(help="The team's id, e.g. team-east.")],
    name: Name,
    db: Db = None,
    config: Config = None,
) -> None:
    """Create a collection team."""
    with _at_console(db, config) as app:
        create_team(app.identity, None, team_id, name, datetime.now(UTC))
    out.print(f"team {team_id} created")


@staff_app.command("agency")
def agency_command(
    agency_id: Annotated[str, typer.Argument(help="The agency's id, e.g. agency-hz.")],
    name: Name,
    commission: Annotated[
        str, typer.Option("--commission", help="Its share of what it collects, e.g. 0.18.")
    ],
    listed: Annotated[
        bool,
        typer.Option(
            "--listed/--not-listed",
            help="Whether it is on the lender's published white list of agencies.",
        ),
    ] = False,
    evaluated_on: Annotated[
        str | None,
        typer.Option("--evaluated-on", help="The day of its last evaluation, YYYY-MM-DD."),
    ] = None,
    db: Db = None,
    config: Config = None,
) -> None:
    """Create a collection agency with its commission, white-list standing and last
    evaluation (under the cn pack a case is placed only with an agency on the white list,
    evaluated in the last 12 months)."""
    evaluated = None if evaluated_on is None else parse_day(evaluated_on, "--evaluated-on")
    now = datetime.now(UTC)
    with _at_console(db, config) as app:
        create_agency(app.identity, None, agency_id, name, commission, desk_day(now), now,
                      listed=listed, evaluated_on=evaluated)  # fmt: skip
    out.print(f"agency {agency_id} created ({_standing(listed, evaluated)})")


@staff_app.command("agency-evaluation")
def agency_evaluation_command(
    agency_id: Annotated[str, typer.Argument(help="The agency evaluated, e.g. agency-hz.")],
    on: Annotated[str, typer.Option("--on", help="The day it was evaluated, YYYY-MM-DD.")],
    delist: Annotated[
        bool,
        typer.Option("--delist", help="The evaluation takes it off the white list."),
    ] = False,
    db: Db = None,
    config: Config = None,
) -> None:
    """Record an agency's evaluation: it is on the white list after it (off it with
    --delist), evaluated on that day (not after today, the desk's day)."""
    day = parse_day(on, "--on")
    now = datetime.now(UTC)
    with _at_console(db, config) as app:
        evaluate_agency(app.identity, None, agency_id, day, not delist, desk_day(now), now)
    out.print(f"agency {agency_id} evaluated ({_standing(not delist, day)})")


@staff_app.command("agency-commission")
def agency_commission_command(
    agency_id: Annotated[str, typer.Argument(help="The agency, e.g. agency-hz.")],
    commission: Annotated[
        str,
        typer.Option("--commission", help="Its new share of what it collects, e.g. 0.20."),
    ],
    db: Db = None,
    config: Config = None,
) -> None:
    """Change an agency's commission for the cases placed with it from now on (a case placed
    already keeps the rate it was placed at)."""
    with _at_console(db, config) as app:
        was = set_agency_commission(app.identity, None, agency_id, commission,
                                    datetime.now(UTC))  # fmt: skip
    out.print(f"agency {agency_id} commission {was} -> {commission} (placements from now on)",
              highlight=False)  # fmt: skip


@staff_app.command("agencies")
def agencies_command(json_out: Json = False, db: Db = None, config: Config = None) -> None:
    """Every agency, with its commission, white-list standing and last evaluation."""
    with open_app(db, config) as app:
        found = app.identity.agencies()
    if json_out:
        print(json.dumps({"agencies": [agency_document(a) for a in found]}, ensure_ascii=False))
        return
    for a in found:
        out.print(f"{a.agency_id:<16} {a.commission_rate:<8} "
                  f"{_standing(a.listed, a.evaluated_on):<42} {a.name}",
                  highlight=False)  # fmt: skip


def _standing(listed: bool, evaluated_on: date | None) -> str:
    """An agency's white-list standing and last evaluation, in words."""
    where = "on the white list" if listed else "not on the white list"
    when = "never evaluated" if evaluated_on is None else f"evaluated {evaluated_on}"
    return f"{where}, {when}"


@staff_app.command("user")
def user_command(
    user_id: Annotated[str, typer.Argument(help="The user's id (lower case), e.g. admin.")],
    name: Name,
    role: Annotated[str, typer.Option("--role", help=", ".join(r.value for r in Role))],
    team: Annotated[str | None, typer.Option("--team", help="A collector's team.")] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="An agency user's.")] = None,
    locale: Annotated[str, typer.Option("--locale", help=", ".join(LOCALES))] = "zh-CN",
    password_stdin: PasswordStdin = False,
    json_out: Json = False,
    db: Db = None,
    config: Config = None,
) -> None:
    """Create a user (an administrator first, who then creates the others on the web)."""
    try:
        chosen = Role(role)
    except ValueError:
        fail(f"--role: {role!r} is not one of {', '.join(r.value for r in Role)}", 2)
    password = _password(password_stdin)
    record = UserRecord(user_id, name, chosen, "", team, agency, locale)
    with _at_console(db, config) as app:
        made = create_user(app.identity, app.passwords, None, record, password,
                           datetime.now(UTC))  # fmt: skip
    if json_out:
        print(json.dumps(user_document(made), ensure_ascii=False))
    else:
        out.print(f"user {made.user_id} ({made.role.value}) created")


@staff_app.command("password")
def password_command(
    user_id: Annotated[str, typer.Argument(help="The user whose password is set.")],
    password_stdin: PasswordStdin = False,
    db: Db = None,
    config: Config = None,
) -> None:
    """Set a user's password: their sessions end and their API tokens are revoked."""
    password = _password(password_stdin)
    with _at_console(db, config) as app:
        stored = reset_password(app.identity, app.passwords, None, user_id, password,
                                datetime.now(UTC))  # fmt: skip
    out.print(f"password of {stored} set; their sessions and tokens are ended")


@staff_app.command("list")
def list_command(json_out: Json = False, db: Db = None, config: Config = None) -> None:
    """Every user, with role, team or agency and status."""
    with open_app(db, config) as app:
        users = app.identity.users()
    if json_out:
        print(json.dumps({"users": [user_document(u) for u in users]}, ensure_ascii=False))
        return
    for u in users:
        where = u.team_id or u.agency_id or ""
        state = "active" if u.active else "disabled"
        out.print(f"{u.user_id:<16} {u.role.value:<17} {where:<12} {state:<8} {u.display_name}",
                  highlight=False)  # fmt: skip


@contextmanager
def _at_console(db: str | None, config: str | None) -> Iterator[App]:
    """The application for a change at the console; the change refused is printed as an
    error (exit 1), nothing written."""
    with open_app(db, config) as app:
        try:
            yield app
        except DomainError as error:
            fail(str(error))


def _password(from_stdin: bool) -> str:
    """The password from stdin's first line, or asked twice on the terminal (never an option:
    it would stay in the shell's history and the process list)."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("--password-stdin: stdin is empty", 2)
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password on: give it with --password-stdin", 2)
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))

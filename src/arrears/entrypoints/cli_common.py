"""What the `arrears` commands share: the consoles, the common options, clear failures, and
the application opened for a command."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from arrears.bootstrap import App, build_app
from arrears.domain.errors import DomainError
from arrears.entrypoints import cli_values
from arrears.entrypoints.cli_values import given_or_left_out

err = Console(stderr=True)
out = Console()


Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (else $ARREARS_DATABASE_URL, else sqlite:///arrears.db).",
        callback=given_or_left_out,
    ),
]
Config = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Settings TOML (else $ARREARS_CONFIG, else ./arrears.toml).",
        callback=given_or_left_out,
    ),
]
AsOf = Annotated[str, typer.Option("--as-of", help="Accounting date, YYYY-MM-DD.")]
Json = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear message on stderr and exit non-zero."""
    # The message is text, not markup: "[[lpr.fixing]]" in a hint must print as written.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def parse_day(text: str, option: str = "--as-of") -> date:
    """A YYYY-MM-DD date, or exit 2 naming the option."""
    try:
        return cli_values.parse_day(text, option)
    except ValueError as error:
        fail(str(error), 2)


def parse_instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant with its UTC offset, or exit 2 naming the option."""
    try:
        return cli_values.parse_instant(text, option)
    except ValueError as error:
        fail(str(error), 2)


# The options given before the command (`arrears --db URL run`): the root of each invocation
# sets them (cli.main), for the command to take when it is not given its own.
BEFORE: dict[str, str | None] = {}


def given_first(name: str, value: str | None) -> str | None:
    """An option as given to the command, else as given before it: the command's own wins."""
    return value if value is not None else BEFORE.get(name)


@contextmanager
def open_app(db: str | None, config: str | None, *, need_schema: bool = True) -> Iterator[App]:
    """Wire the application, turning set-up problems into clear errors; close it after."""
    try:
        application = build_app(given_first("db", db), given_first("config", config))
    except (DomainError, ValueError) as error:
        fail(str(error))
    try:
        if need_schema:
            _check_schema(application)
        yield application
    except OperationalError as error:
        # Busy (another process holds SQLite's lock) or gone: the driver's own words, not the
        # statement and its parameters, which hold a borrower's data. The transaction rolled
        # back, so a command that writes wrote nothing.
        fail(f"the database could not do it, nothing was written: {_driver_says(error)}")
    finally:
        application.close()


def _driver_says(error: OperationalError) -> str:
    """The database driver's message, first line, without the SQL and its parameters."""
    said = str(error.orig).strip().splitlines()
    return said[0] if said else type(error.orig).__name__


def _check_schema(application: App) -> None:
    try:
        application.require_schema()
    except DomainError as error:
        fail(str(error))
    except Exception as error:  # noqa: BLE001 - a database that cannot be reached, named
        fail(f"cannot open the database: {error}")

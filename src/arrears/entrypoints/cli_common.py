"""What the `arrears` commands share: the consoles, the common options, clear failures, and
the application opened for a command."""

import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, NoReturn

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


def undecodable(argv: list[str]) -> str | None:
    """What is wrong with the first of the command's arguments that is not text (bytes a
    terminal not set to UTF-8 sent, which Python keeps as lone surrogates: no store or file
    can take them), named by its option; None when every one is text."""
    for position, arg in enumerate(argv):
        if any("\udc80" <= ch <= "\udcff" for ch in arg):
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            before = argv[position - 1] if position else ""
            where = (
                f"the value of {before}" if before.startswith("-") else f"argument {position + 1}"
            )
            return (
                f"{where} ({shown!r}) is not UTF-8 text (\ufffd stands for each byte that is "
                f"not): set the terminal to UTF-8 (e.g. LANG=zh_CN.UTF-8) and give it again"
            )
    return None


class CommandLine(typer.Typer):
    """A Typer app whose arguments are refused as a usage error (exit 2) when one is not text,
    before any command runs: they would otherwise fail deep in a store with a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line on sys.argv (or the arguments given)."""
        given = kwargs.get("args")
        wrong = undecodable(list(given) if given is not None else sys.argv[1:])
        if wrong is not None:
            err.print(f"[bold red]error:[/] {escape(wrong)}", highlight=False, soft_wrap=True)
            raise SystemExit(2)
        return super().__call__(*args, **kwargs)


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


_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})  # Unicode categories shown as a space


def on_one_line(text: str) -> str:
    """Text on one line of a terminal, as long as it is: each control, format or separator
    character (a line break, a tab, an escape sequence a borrower typed, a bidirectional
    override) as a space, so no text can move the cursor, hide another row or split a
    tab-separated one."""
    return "".join(" " if unicodedata.category(ch) in _HIDDEN else ch for ch in text)

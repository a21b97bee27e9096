"""The `arrears` command line (CONTRACT.md): init, import, run, loan, demo."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from arrears.adapters.phone_zones import phone_region as parse_phone_region
from arrears.batch.run import run_day
from arrears.domain.errors import DomainError
from arrears.entrypoints.cli_bureau import bureau_app
from arrears.entrypoints.cli_common import (
    BEFORE,
    AsOf,
    CommandLine,
    Config,
    Db,
    Host,
    Json,
    Port,
    err,
    fail,
    given_first,
    open_app,
    out,
    parse_day,
)
from arrears.entrypoints.cli_contact import contact_app
from arrears.entrypoints.cli_engine import (
    ENGINES,
    BucketsOption,
    EngineOption,
    MasterOption,
    book_run_or_fail,
    refuse_spark_options,
)
from arrears.entrypoints.cli_engine import register as register_book_commands
from arrears.entrypoints.cli_portal import portal_app
from arrears.entrypoints.cli_replies import replies_command, reply_command
from arrears.entrypoints.cli_send import receipts_command, send_command, settle_command
from arrears.entrypoints.cli_staff import staff_app
from arrears.entrypoints.presenters import loan_document
from arrears.services.feed import FEED_KINDS, FeedRejected
from arrears.services.import_feed import import_feed

app = CommandLine(
    help="arrears: loan delinquency and collections (催收) management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help is text, not markup: the settings' "[channels]" and "[feeds]" must print as written.
    rich_markup_mode=None,
)


@app.callback()
def main(db: Db = None, config: Config = None) -> None:
    """arrears: loan delinquency and collections (催收) management. `--db` and `--config`
    given before a command hold for it, unless it is given its own."""
    BEFORE.clear()
    BEFORE.update(db=db, config=config)


@app.command()
def init(db: Db = None, config: Config = None) -> None:
    """Create or migrate the database."""
    with open_app(db, config, need_schema=False) as application:
        try:
            application.migrate()
        except Exception as error:  # noqa: BLE001 - a database that cannot be reached, named
            fail(f"cannot migrate the database: {error}")
        url = application.engine.url.render_as_string(hide_password=True)
    err.print(f"database ready: {url}")


@app.command("import")
def import_command(
    kind: Annotated[
        str, typer.Argument(help="borrowers, contacts, loans, installments or payments")
    ],
    file: Annotated[Path, typer.Argument(help="CSV or Parquet feed file")],
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
    phone_region: Annotated[
        str | None,
        typer.Option(
            help="read phone numbers written without +country code as numbers of this region "
            "(ISO 3166: CN, US, GB; default: the settings' [feeds] phone_region, else CN)"
        ),
    ] = None,
) -> None:
    """Load a feed file, all or nothing."""
    if kind not in FEED_KINDS:
        fail(f"unknown feed kind {kind!r}; expected one of {', '.join(FEED_KINDS)}", 2)
    region = None
    if phone_region is not None:
        try:
            region = parse_phone_region(phone_region)
        except ValueError as error:
            fail(f"--phone-region: {error}", 2)
    with open_app(db, config) as application:
        try:
            with _progress_bar(f"import {kind}", quiet=as_json) as advance:
                settings = application.settings
                report = import_feed(
                    application.ledger, application.feed_reader, kind, file,
                    set(settings.products), advance, settings,
                    region or settings.phone_region,
                )  # fmt: skip
        except FeedRejected as rejected:
            fail(str(rejected))
    document = {
        "kind": report.kind,
        "file": str(file),
        "rows": report.rows_read,
        "inserted": report.inserted,
        "skipped_duplicates": report.skipped_duplicates,
    }
    if as_json:
        print(json.dumps(document, ensure_ascii=False))
    else:
        err.print(
            f"{kind}: {report.rows_read} rows read, {report.inserted} written, "
            f"{report.skipped_duplicates} already imported"
        )


@app.command()
def run(
    as_of: AsOf,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
    engine: EngineOption = "local",
    book: Annotated[
        Path | None,
        typer.Option("--book", help="Run over a Parquet book folder instead of the database."),
    ] = None,
    master: MasterOption = None,
    buckets: BucketsOption = None,
) -> None:
    """The end-of-day run for a date over the whole book (catching up skipped days)."""
    day = parse_day(as_of)
    if engine not in ENGINES:
        fail(f"--engine {engine!r} is not one of {', '.join(ENGINES)}", 2)
    refuse_spark_options(engine, master, buckets)
    if book is not None or engine == "spark":
        if book is None:
            fail("--engine spark runs over a Parquet book folder: give --book DIR", 2)
        document = book_run_or_fail(day, book, engine, given_first("config", config), master,
                                    buckets)  # fmt: skip
    else:
        with open_app(db, config) as application:
            try:
                with _status(f"end of day {day}", quiet=as_json):
                    ctx = application.run_context(day)
                    document = run_day(application.runs, ctx, datetime.now(UTC))
            except DomainError as error:
                fail(str(error))
    if as_json:
        print(json.dumps(document, ensure_ascii=False))
    else:
        print_run(document)


@app.command()
def loan(
    loan_id: Annotated[str, typer.Argument(help="The loan's id")],
    as_of: AsOf,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """One loan's state on a date, every amount with its reason."""
    day = parse_day(as_of)
    with open_app(db, config) as application:
        found = list(application.ledger.load_book([loan_id]))
        if not found:
            fail(f"loan {loan_id!r} is not in the database")
        the_loan, payments = found[0]
        try:
            state = application.evaluate(the_loan, payments, day)
            product = application.settings.product(the_loan.product)
            stage = application.stage_of(the_loan, state)
        except DomainError as error:
            fail(str(error))
    document = loan_document(state, the_loan.currency, the_loan.product, product.day_count,
                             stage)  # fmt: skip
    if as_json:
        print(json.dumps(document, ensure_ascii=False))
    else:
        print_loan(document)


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo book and database go.")
    ] = Path("demo-data"),
    loans: Annotated[int, typer.Option(min=1, help="Loans in the synthetic book.")] = 2_000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the web workbench at the end.")
    ] = True,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """The whole cycle on a synthetic book in an embedded SQLite database, then the web
    workbench on it (one log-in per role)."""
    from arrears.entrypoints.demo import print_portal_link, run_demo
    from arrears.entrypoints.demo_staff import print_logins

    console = Console(width=max(out.width, 150))  # wide enough for the run table
    try:
        run_demo(directory, loans, console)
    except (DomainError, FeedRejected) as error:
        fail(str(error))
    if serve_after:
        print_logins(f"http://{host}:{port}/", console)
        print_portal_link(f"sqlite:///{directory / 'arrears.db'}", f"http://{host}:{port}", console)
        serve(db=f"sqlite:///{directory / 'arrears.db'}", config=None, host=host, port=port)


@app.command()
def serve(
    db: Db = None, config: Config = None, host: Host = "127.0.0.1", port: Port = 8000
) -> None:
    """The web workbench and the JSON API (/api/v1, OpenAPI at /api/v1/docs)."""
    import uvicorn

    from arrears.entrypoints.web.app import create_app

    with open_app(db, config) as application:
        out.print(f"serving on http://{host}:{port}/ (Ctrl-C stops)")
        uvicorn.run(create_app(application), host=host, port=port, log_level="warning")


def print_run(document: dict[str, Any]) -> None:
    """A run's summary as tables."""
    table = Table(title=f"end of day {document['as_of']}: {document['loans']} loans")
    for name in document["buckets"]:
        table.add_column(name, justify="right")
    table.add_row(*(str(n) for n in document["buckets"].values()))
    out.print(table)
    stages = ", ".join(f"{k} {v}" for k, v in document["stages"].items() if v)
    out.print(f"stages: {stages}")
    # Each currency on its own line when the store names them (two are never added).
    since = f"posted since {document['since'] or 'the start'}"
    for currency, amounts in (document.get("by_currency") or {"": document}).items():
        out.print(
            f"{since}{' in ' + currency if currency else ''}: interest "
            f"{amounts['interest_posted']}, penalty {amounts['penalty_posted']}, fees "
            f"{amounts['fees_posted']}, cut by the cost cap {amounts['cap_cut']}"
        )


def print_loan(document: dict[str, Any]) -> None:
    """A loan's state as a short report."""
    overdue = document["overdue"]
    out.print(
        f"[bold]{document['loan_id']}[/] on {document['as_of']}: dpd {document['dpd']}, "
        f"{document['bucket']}, stage {document['stage']}; outstanding principal "
        f"{document['outstanding_principal']} {document['currency']}"
    )
    out.print(
        f"overdue {overdue['total']} = principal {overdue['principal']} + interest "
        f"{overdue['interest']} + penalty {overdue['penalty']} + fees {overdue['fees']}"
    )
    for charge in document["charges"]:
        out.print(f"  {charge['amount']:>10}  {charge['reason']}")
    for cut in document["cap_cuts"]:
        days = f"{cut['first_day']}..{cut['last_day']}"
        out.print(
            f"  cut {cut['amount']} of {cut['kind']} {days} by {cut['rule']}: {cut['source']}"
        )


@contextmanager
def _status(label: str, *, quiet: bool) -> Iterator[None]:
    """A spinner on stderr while a long step runs (not when printing JSON or not on a terminal)."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    with err.status(label):
        yield


class _progress_bar:  # noqa: N801 - used as a context manager verb
    """A Rich progress bar on stderr whose callback is advance(done so far, total)."""

    def __init__(self, label: str, *, quiet: bool, total: int | None = None) -> None:
        self.label, self.quiet, self.total = label, quiet or not sys.stderr.isatty(), total

    def __enter__(self) -> Any:
        if self.quiet:
            return lambda *_: None
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=err, transient=True,
        )  # fmt: skip
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)

        def advance(done: int, total: int | None = None) -> None:
            self.bar.update(task, completed=done, total=total)

        return advance

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.bar.stop()


app.add_typer(contact_app, name="contact")
app.add_typer(bureau_app, name="bureau")
app.add_typer(staff_app, name="staff")
app.add_typer(portal_app, name="portal")
app.command("send")(send_command)
app.command("receipts")(receipts_command)
app.command("settle")(settle_command)
app.command("replies")(replies_command)
app.command("reply")(reply_command)
register_book_commands(app)


if __name__ == "__main__":  # `python -m arrears.entrypoints.cli`
    app(prog_name="arrears")

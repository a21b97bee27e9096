"""`arrears demo`: a synthetic book in SQLite, imported through the feeds, run day by day."""

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App, build_app
from arrears.domain.delinquency import BUCKETS
from arrears.entrypoints.presenters import loan_document
from arrears.services.import_feed import import_feed

# The demo replays 2025: loans signed from January to April, the book run weekly through
# mid-November (the last date the shipped LPR table covers, for the private-lending cap).
BOOK_START = date(2025, 1, 6)
SIGNING_DAYS = 120
FIRST_RUN = date(2025, 2, 3)
LAST_RUN = date(2025, 11, 17)
RUN_EVERY = timedelta(days=7)


def run_demo(directory: Path, loans: int, console: Console) -> None:
    """Build, import and run the demo book, printing what happens."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    app = build_app(f"sqlite:///{directory / 'arrears.db'}", None, directory)
    app.migrate()
    book = synthetic_book(loans, BOOK_START, SIGNING_DAYS)
    console.print(f"[bold]arrears demo[/]: {loans} synthetic loans in {directory / 'arrears.db'}")
    products = set(app.settings.products)
    for kind in ("borrowers", "contacts", "loans", "installments"):
        path = book.write(kind, directory / f"{kind}.csv")
        report = import_feed(app.ledger, app.feed_reader, kind, path, products)
        console.print(f"  imported {report.inserted:>6} {kind} from {path.name}")
    history = Table(title="end-of-day runs (weekly)")
    for column in ("as of", "payments in", *BUCKETS, "penalty posted", "cap cut"):
        history.add_column(column, justify="right")
    previous, day, summary = date.min, FIRST_RUN, None
    while day <= LAST_RUN:
        todays = [p for p in book.payments if previous < date.fromisoformat(p["paid_on"]) <= day]
        path = book.write("payments", directory / f"payments-{day}.csv", todays)
        report = import_feed(app.ledger, app.feed_reader, "payments", path, products)
        summary = run_day(app.runs, app.run_context(day), datetime.now(UTC))
        amounts = (summary["penalty_posted"], summary["cap_cut"])
        buckets = [str(n) for n in summary["buckets"].values()]
        history.add_row(day.isoformat(), str(report.inserted), *buckets, *amounts)
        previous, day = day, day + RUN_EVERY
    console.print(history)
    if summary is not None:
        _print_final(app, summary, console)


def _print_final(app: App, summary: dict[str, Any], console: Console) -> None:
    as_of = date.fromisoformat(summary["as_of"])
    stages = ", ".join(f"{k} {v}" for k, v in summary["stages"].items() if v)
    console.print(f"stages on {as_of}: {stages}")
    worst = next((loan for loan, payments in app.ledger.load_book() if not payments), None)
    if worst is not None:
        state = app.terms.evaluate(worst, [], as_of)
        product = app.settings.product(worst.product)
        document = loan_document(state, worst.currency, worst.product, product.day_count)
        brief = {k: document[k] for k in ("loan_id", "as_of", "dpd", "bucket", "stage", "overdue")}
        console.print("a loan that never paid, as `arrears loan --json` shows it:")
        console.print_json(json.dumps(brief, ensure_ascii=False))
    console.print(
        f"try: arrears loan {worst.loan_id if worst else 'L0000001'} --as-of {as_of} "
        f"--db sqlite:///{app.database_url.removeprefix('sqlite:///')}"
    )

"""`arrears demo`: a synthetic book in SQLite, imported through the feeds, run day by day."""

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from arrears.adapters.synthetic_book import SyntheticBook, synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App, build_app
from arrears.domain.delinquency import BUCKETS
from arrears.domain.staff import CONSOLE
from arrears.entrypoints.bureau_file import export_to_file
from arrears.entrypoints.demo_desk import Desk
from arrears.entrypoints.demo_staff import balance_cases, evaluate_for_today, seed_staff
from arrears.entrypoints.presenters import loan_document
from arrears.services.feed import FeedKind
from arrears.services.import_feed import import_feed
from arrears.services.portal import LINK_MINUTES, issue_link

# The demo replays 2025: loans signed from January to April, the book run weekly until
# mid-August, then every day, a simulated desk working each run's plan, through
# mid-November (the last date the shipped LPR table covers, for the private-lending cap).
BOOK_START = date(2025, 1, 6)
SIGNING_DAYS = 120
FIRST_RUN = date(2025, 2, 3)
DAILY_FROM = date(2025, 8, 18)
LAST_RUN = date(2025, 11, 17)
WEEK = timedelta(days=7)


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
    for kind in ("borrowers", "contacts"):
        path = book.write(kind, directory / f"{kind}.csv")
        report = import_feed(app.ledger, app.feed_reader, kind, path, products)
        console.print(f"  imported {report.inserted:>6} {kind} from {path.name}")
    console.print("  loans and their schedules come in as they are signed, before each run")
    history = Table(title="end-of-day runs: weekly, then daily from " + DAILY_FROM.isoformat())
    for column in ("as of", "lent", "paid", *BUCKETS, "penalty", "cap cut", "planned",
                   "blocked"):  # fmt: skip
        history.add_column(column, justify="right", no_wrap=True)
    desk, totals, exports = Desk(), _Totals(), []
    seeded: str | None = None  # the staff, made on the first daily run
    balanced: Counter[str] = Counter()
    previous, day, summary = date.min, FIRST_RUN, None
    while day <= LAST_RUN:
        # A lender's feed brings a loan once it is signed: one not yet lent is in no bucket.
        signed = [r for r in book.loans if previous < date.fromisoformat(r["contract_date"]) <= day]
        lent = _import_signed(app, book, signed, directory, products)
        todays = [p for p in book.payments if previous < date.fromisoformat(p["paid_on"]) <= day]
        todays += desk.payments_between(previous, day)
        path = book.write("payments", directory / "payments-today.csv", todays)
        report = import_feed(app.ledger, app.feed_reader, "payments", path, products)
        summary = run_day(app.runs, app.run_context(day), datetime.now(UTC))
        daily = day >= DAILY_FROM
        if daily:
            if totals.days == 0:
                desk.done.clear()  # the totals printed are the daily runs'
            totals.add(summary)
        # The desk works every run's plan (a formal notice of a weekly run is sent too: the
        # guards of later steps look for it).
        desk.work(app, day)
        if day >= DAILY_FROM:
            if seeded is None:
                seeded = seed_staff(app, day, datetime.now(UTC))
            else:
                balanced.update(balance_cases(app, day, datetime.now(UTC)))
        if not daily or day.weekday() == 0 or day == LAST_RUN:
            history.add_row(*_row(day, lent, report.inserted, summary))
        if daily and (day + timedelta(days=1)).day == 1:  # a month's last day was run
            exports.append(_bureau(app, day, directory))
        previous, day = day, day + (timedelta(days=1) if day >= DAILY_FROM else WEEK)
    console.print(history)
    if summary is not None:
        _print_final(app, summary, console)
        totals.print(desk, console)
    for line in exports:
        console.print(line)
    replies = desk.replies(app, datetime.now(UTC))
    console.print(f"replies to the last day's texts: {sum(replies.values())} "
                  f"({replies['opted_out']} opted out at once, {replies['to_read']} waiting to be "
                  f"read on /replies)")  # fmt: skip
    console.print("[bold]the desk[/]: teams, an agency and one user of every role")
    if seeded is not None:
        console.print(f"  {seeded}")
        console.print(f"  {evaluate_for_today(app, datetime.now(UTC))}")
        shared = ", ".join(f"{u} {n}" for u, n in sorted(balanced.items()))
        console.print(f"  cases balanced on the daily runs after: {shared or 'none'}")


def _bureau(app: App, day: date, directory: Path) -> str:
    """The month ending on `day` exported to the credit bureau's file (docs/BUREAU.md), in a
    line: what was furnished by status, and what waits for the pre-notice."""
    month = day.strftime("%Y-%m")
    to = directory / f"bureau-cn-{month}.csv"
    export = export_to_file(app, "cn", month, to, datetime.now(UTC))
    counts = ", ".join(f"{status} {n}" for status, n in export.by_status().items())
    return (f"bureau export {month} (cn) to {to.name}: {len(export.furnished)} furnished "
            f"({counts}); {len(export.withheld)} withheld until the borrower is told "
            f"(cn.credit_pre_notice)")  # fmt: skip


def _import_signed(
    app: App, book: SyntheticBook, signed: list[dict[str, str]], directory: Path,
    products: set[str],
) -> int:  # fmt: skip
    """Import the loans signed since the last run, with their schedules; how many."""
    if not signed:
        return 0
    ids = {row["loan_id"] for row in signed}
    lines = [row for row in book.installments if row["loan_id"] in ids]
    kinds: tuple[tuple[FeedKind, list[dict[str, str]]], ...] = (
        ("loans", signed),
        ("installments", lines),
    )
    for kind, rows in kinds:
        path = book.write(kind, directory / f"{kind}-today.csv", rows)
        import_feed(app.ledger, app.feed_reader, kind, path, products, pricing=app.settings)
    return len(signed)


def _row(day: date, lent: int, paid: int, summary: dict[str, Any]) -> list[str]:
    planned = sum(summary["planned_actions"].values())
    blocked = sum(summary["blocked_contacts"].values())
    return [day.isoformat(), str(lent), str(paid), *(str(n) for n in summary["buckets"].values()),
            summary["penalty_posted"], summary["cap_cut"], str(planned), str(blocked)]  # fmt: skip


@dataclass
class _Totals:
    """Planned and blocked actions over the daily runs."""

    planned: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    promises: Counter[str] = field(default_factory=Counter)
    days: int = 0

    def add(self, summary: dict[str, Any]) -> None:
        """Count one daily run."""
        self.days += 1
        self.planned.update(summary["planned_actions"])
        self.blocked.update(summary["blocked_contacts"])
        self.promises = Counter(summary["promises"])

    def print(self, desk: Desk, console: Console) -> None:
        """What the daily runs planned and refused, and what the desk did."""
        console.print(f"[bold]over {self.days} daily runs[/]")
        console.print("  planned actions: " + _listed(self.planned))
        console.print("  blocked, by rule: " + _listed(self.blocked))
        console.print("  promises to pay (as of the last run): " + _listed(self.promises))
        calls = {k.split(":")[1]: v for k, v in desk.done.items() if k.startswith("call:")}
        console.print("  calls made: " + _listed(Counter(calls)))
        asked = {k: v for k, v in desk.done.items()
                 if k.startswith(("hold:", "opt-out:", "referred:"))}  # fmt: skip
        console.print("  borrowers reached who disputed, opted out or were referred to legal: "
                      + _listed(Counter(asked)))  # fmt: skip
        console.print(f"  contacts logged through the compliance engine that broke a rule: "
                      f"{desk.broken_rules}")  # fmt: skip


def _listed(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _print_final(app: App, summary: dict[str, Any], console: Console) -> None:
    as_of = date.fromisoformat(summary["as_of"])
    stages = ", ".join(f"{k} {v}" for k, v in summary["stages"].items() if v)
    console.print(f"stages on {as_of}: {stages}")
    worst = next((loan for loan, payments in app.ledger.load_book() if not payments), None)
    if worst is not None:
        state = app.evaluate(worst, [], as_of)
        product = app.settings.product(worst.product)
        document = loan_document(state, worst.currency, worst.product, product.day_count,
                                 app.stage_of(worst, state))  # fmt: skip
        brief = {k: document[k] for k in ("loan_id", "as_of", "dpd", "bucket", "stage", "overdue")}
        console.print("a loan that never paid, as `arrears loan --json` shows it:")
        console.print_json(json.dumps(brief, ensure_ascii=False))
    console.print(
        f"try: arrears loan {worst.loan_id if worst else 'L0000001'} --as-of {as_of} "
        f"--db sqlite:///{app.database_url.removeprefix('sqlite:///')}"
    )


def print_portal_link(db: str, base: str, console: Console) -> None:
    """A one-day portal link of a borrower whose loan is past due with penalty interest on
    the last run's day, to try the borrower portal as them (docs/PORTAL.md)."""
    app = build_app(db, None)
    try:
        as_of = app.desk.last_run()
        found = None
        if as_of is not None:
            for loan, payments in app.ledger.load_book():
                state = app.evaluate(loan, payments, as_of)
                if state.overdue.penalty > 0:
                    found = loan.borrower_id
                    break
        if found is None:
            return
        now = datetime.now(UTC)
        token, _ = issue_link(app.portal, found, LINK_MINUTES, now, CONSOLE)
        console.print(f"[bold]borrower portal[/] (as borrower {found}, opens once within a day): "
                      f"{base}/p/{token}")  # fmt: skip
    finally:
        app.close()

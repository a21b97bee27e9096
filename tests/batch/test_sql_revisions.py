"""Approved extensions on SQLite and PostgreSQL: a run's state is the domain's evaluation with
each loan's extensions from their day, whatever the run schedule."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from arrears.adapters.db.casework_tables import proposals
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.services.import_feed import import_feed
from tests.batch.test_sql_pauses import states_are_the_domains
from tests.batch.test_sql_run import dump, forget_runs

AT = datetime(2026, 1, 1, tzinfo=UTC)
END = date(2025, 6, 30)


@pytest.fixture
def app(migrated: Engine, tmp_path: Path) -> App:
    """An app on a 40-loan synthetic book (shipped products)."""
    application = App(str(migrated.url), load_settings(None))
    application.__dict__["engine"] = migrated
    book = synthetic_book(40, date(2025, 1, 6), 60, seed=11)
    products = set(application.settings.products)
    for kind in ("borrowers", "contacts", "loans", "installments", "payments"):
        path = book.write(kind, tmp_path / f"{kind}.csv")
        import_feed(application.ledger, FileFeedReader(), kind, path, products)
    return application


def approve(app: App, loan_id: str, kind: str, on: date, terms: dict[str, int]) -> None:
    """An approved proposal, effective on `on` (as the desk stores one)."""
    at = datetime.combine(on, datetime.min.time(), UTC)
    with app.engine.begin() as conn:
        conn.execute(insert(proposals).values(
            loan_id=loan_id, kind=kind, terms={**terms, "overdue": 1}, waived=0,
            status="approved", proposed_by="col", proposed_at=at, decided_by="col",
            decided_at=at, effective_on=on,
        ))  # fmt: skip


def test_extensions_approved_between_runs_are_the_domains(app: App) -> None:
    first = END - timedelta(days=30)
    run(app, first)
    late = sorted(((app.evaluate(loan, p, first).dpd, loan.loan_id)
                   for loan, p in app.ledger.load_book()), reverse=True)  # fmt: skip
    picked = [loan_id for _, loan_id in late[:6]]
    # Effective on the day of the run, before it, and ahead of the next run; one twice; a
    # plan, which is approved but not applied.
    approve(app, picked[0], "extension", first + timedelta(days=1), {"days": 30})
    approve(app, picked[1], "extension", first - timedelta(days=5), {"days": 10})
    approve(app, picked[2], "extension", first + timedelta(days=12), {"days": 45})
    approve(app, picked[3], "extension", first + timedelta(days=2), {"days": 7})
    approve(app, picked[3], "extension", first + timedelta(days=20), {"days": 14})
    approve(app, picked[4], "plan", first + timedelta(days=2), {"months": 6})
    second = first + timedelta(days=10)
    run(app, second)
    states_are_the_domains(app, second)
    run(app, END)
    states_are_the_domains(app, END)
    ((loan, payments),) = app.ledger.load_book([picked[0]])
    assert app.evaluate(loan, payments, END).revisions
    daily = dump(app.engine)
    forget_runs(app.engine)
    run(app, END)
    assert dump(app.engine) == daily


def run(app: App, day: date) -> None:
    run_day(app.runs, app.run_context(day), AT)

"""Holds that pause loans' clocks, on SQLite and PostgreSQL: a run's state is the domain's
evaluation with the borrowers' holds, whether the holds were placed back-dated, changed,
lifted or withdrawn between runs, and whatever the run schedule."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update

from arrears.adapters.db import tables
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.domain.contact import Hold
from tests.batch.test_sql_run import dump, forget_runs
from tests.feed_files import import_synthetic

AT = datetime(2026, 1, 1, tzinfo=UTC)
END = date(2025, 6, 30)
SETTINGS = """
[products.cn-cash]
pause_ageing = ["dispute"]
pause_charges = ["dispute", "hardship"]

[products.cn-private]
cap = "private"
pause_charges = ["hardship"]
"""


@pytest.fixture
def app(migrated: Engine, tmp_path: Path) -> App:
    """An app whose products pause their clocks for holds, on a 40-loan synthetic book."""
    config = tmp_path / "arrears.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    application = App(str(migrated.url), load_settings(config))
    application.__dict__["engine"] = migrated
    book = synthetic_book(40, date(2025, 1, 6), 60, seed=11)
    import_synthetic(application, book, tmp_path)
    return application


def run(app: App, day: date) -> dict[str, Any]:
    return run_day(app.runs, app.run_context(day), AT)


def hold(app: App, borrower: str, kind: str, first: date, last: date | None) -> None:
    app.contacts.record_hold(borrower, Hold(kind, first, last), AT)


def states_are_the_domains(app: App, day: date) -> int:
    """Every loan's stored state is the domain's evaluation with its holds; how many loans
    have pauses."""
    with app.engine.connect() as conn:
        stored = {r.loan_id: r for r in conn.execute(select(tables.loan_states))}
    paused = 0
    for loan, payments in app.ledger.load_book():
        state = app.evaluate(loan, payments, day)
        paused += bool(state.pauses)
        row = stored[loan.loan_id]
        got = (row.dpd, row.bucket, row.overdue_penalty, row.overdue_fees, row.charged)
        want = (state.dpd, state.bucket, state.overdue.penalty, state.overdue.fees,
                state.charged)  # fmt: skip
        assert got == want, (loan.loan_id, got, want)
    return paused


def late_borrowers(app: App, day: date, count: int) -> list[str]:
    """The borrowers of the loans furthest past due on `day` first (then the others)."""
    found = sorted(((app.evaluate(loan, payments, day).dpd, loan.borrower_id)
                    for loan, payments in app.ledger.load_book()), reverse=True)  # fmt: skip
    return list(dict.fromkeys(b for _, b in found))[:count]


def test_holds_placed_back_dated_changed_and_lifted_are_the_domains(app: App) -> None:
    first = END - timedelta(days=20)
    run(app, first)
    assert states_are_the_domains(app, first) == 0
    late = late_borrowers(app, first, 6)
    # Back-dated: a dispute a month long, an open dispute, a hardship hold over the run.
    hold(app, late[0], "dispute", first - timedelta(days=40), first - timedelta(days=10))
    hold(app, late[1], "dispute", first - timedelta(days=15), None)
    hold(app, late[2], "hardship", first - timedelta(days=5), first + timedelta(days=5))
    hold(app, late[3], "deceased", first - timedelta(days=5), None)  # pauses nothing
    hold(app, late[4], "dispute", first + timedelta(days=3), first + timedelta(days=8))
    second = first + timedelta(days=10)
    summary = run(app, second)
    assert states_are_the_domains(app, second) >= 4
    assert summary["buckets"] != {}
    # The open dispute lifted, the hardship hold withdrawn, a new one reaching back.
    with app.engine.begin() as conn:
        h = tables.holds.c
        conn.execute(update(tables.holds).where(h.borrower_id == late[1])
                     .values(ends_on=second - timedelta(days=2)))  # fmt: skip
        conn.execute(delete(tables.holds).where(h.borrower_id == late[2]))
    hold(app, late[5], "hardship", first - timedelta(days=30), second)
    run(app, END)
    assert states_are_the_domains(app, END) >= 4
    # Run once for the last day, the ledger is the same (schedule independence).
    daily = dump(app.engine)
    forget_runs(app.engine)
    run(app, END)
    assert dump(app.engine) == daily
    with app.engine.connect() as conn:
        kept = conn.execute(select(tables.loan_pauses.c.loan_id).distinct()).scalars().all()
    assert kept  # what the run used, to find the loans whose pauses change


def test_a_dispute_keeps_a_loan_out_of_m2_and_its_penalty_stops(app: App) -> None:
    # The reviewer's case: a dispute from before a loan's due date to after the run.
    run(app, END - timedelta(days=60))
    book = list(app.ledger.load_book())  # read whole: a cursor left open warns (PostgreSQL)
    loan, payments = next(
        (loan, p) for loan, p in book
        if loan.product == "cn-cash" and app.evaluate(loan, p, END).dpd > 60
    )  # fmt: skip
    plain = app.evaluate(loan, payments, END)
    due = min(i.due_date for i in loan.installments)
    hold(app, loan.borrower_id, "dispute", due - timedelta(days=1), END + timedelta(days=30))
    run(app, END)
    held = app.evaluate(loan, payments, END)
    assert held.dpd < plain.dpd
    assert held.bucket == "M0"
    assert held.total_charged("penalty") < plain.total_charged("penalty")
    with app.engine.connect() as conn:
        row = conn.execute(select(tables.loan_states).where(
            tables.loan_states.c.loan_id == loan.loan_id)).one()  # fmt: skip
    assert (row.dpd, row.bucket, row.overdue_penalty) == (held.dpd, held.bucket,
                                                          held.overdue.penalty)  # fmt: skip


def test_pause_settings_changed_in_the_settings_replay_the_held_loans(
    app: App, tmp_path: Path
) -> None:
    # Terms are not dated (MONEY_RULES.md, "Terms changed in the settings"): with the same
    # holds, a run under products that pause nothing, then one under these settings, then
    # one under none again: each run's state is the domain's under its settings.
    plain = App(app.database_url, load_settings(None))
    plain.__dict__["engine"] = app.engine
    first = END - timedelta(days=20)
    for n, borrower in enumerate(late_borrowers(app, first, 6)):
        kind = "dispute" if n % 2 else "hardship"
        hold(app, borrower, kind, first - timedelta(days=40), None if n < 3 else first)
    run(plain, first)
    assert states_are_the_domains(plain, first) == 0
    second = first + timedelta(days=10)
    run(app, second)
    assert states_are_the_domains(app, second) >= 4
    run(plain, END)
    assert states_are_the_domains(plain, END) == 0
    with app.engine.connect() as conn:
        assert conn.execute(select(tables.loan_pauses)).first() is None

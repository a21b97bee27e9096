"""Approved extensions on SQLite and PostgreSQL: a run's state is the domain's evaluation with
each loan's extensions from their day, whatever the run schedule."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from arrears.adapters.db import tables
from arrears.adapters.db.casework_tables import proposals
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.domain.money import format_amount
from arrears.entrypoints.presenters import loan_document
from tests.batch.test_sql_pauses import states_are_the_domains
from tests.batch.test_sql_run import dump, forget_runs
from tests.feed_files import import_synthetic

AT = datetime(2026, 1, 1, tzinfo=UTC)
END = date(2025, 6, 30)


@pytest.fixture
def app(migrated: Engine, tmp_path: Path) -> App:
    """An app on a 40-loan synthetic book (shipped products)."""
    application = App(str(migrated.url), load_settings(None))
    application.__dict__["engine"] = migrated
    book = synthetic_book(40, date(2025, 1, 6), 60, seed=11)
    import_synthetic(application, book, tmp_path)
    return application


def approve(app: App, loan_id: str, kind: str, on: date, terms: dict[str, int | str]) -> None:
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
    # plan (tests below).
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


def pay(app: App, payment_id: str, loan_id: str, amount: int, on: date) -> None:
    """A payment as the feed import stores one."""
    with app.engine.begin() as conn:
        conn.execute(insert(tables.payments).values(payment_id=payment_id, loan_id=loan_id,
                                                    amount=amount, paid_on=on))  # fmt: skip


def test_settlements_approved_between_runs_are_the_domains(app: App) -> None:
    first = END - timedelta(days=30)
    run(app, first)
    late = sorted(((app.evaluate(loan, p, first).dpd, loan.loan_id)
                   for loan, p in app.ledger.load_book()), reverse=True)  # fmt: skip
    settled, lapsed, partly, legacy = (loan_id for _, loan_id in late[:4])
    on, by = first + timedelta(days=1), first + timedelta(days=10)
    terms: dict[str, int | str] = {"pay": 50_000, "by": by.isoformat()}
    approve(app, settled, "settlement", on, terms)  # paid in two parts, the last on its day
    approve(app, lapsed, "settlement", on, terms)  # paid a day late: it lapses
    # Back-dated before the first run, paid in part by its day.
    approve(app, partly, "settlement", first - timedelta(days=3),
            {"pay": 30_000, "by": (first + timedelta(days=2)).isoformat()})  # fmt: skip
    approve(app, legacy, "settlement", on, {"pay": 1})  # no deadline: recorded only
    pay(app, "S-0a", settled, 20_000, on)
    pay(app, "S-0b", settled, 30_000, by)
    pay(app, "S-1", lapsed, 50_000, by + timedelta(days=1))
    pay(app, "S-2", partly, 10_000, first - timedelta(days=1))  # back-dated, before the run
    run(app, by - timedelta(days=2))
    states_are_the_domains(app, by - timedelta(days=2))
    run(app, END)
    states_are_the_domains(app, END)
    by_id = {loan.loan_id: (loan, p)
             for loan, p in app.ledger.load_book([settled, lapsed, partly, legacy])}  # fmt: skip
    states = {loan_id: app.evaluate(*by_id[loan_id], END) for loan_id in by_id}
    assert [s.status for s in states[settled].settlements] == ["settled"]
    assert [s.status for s in states[lapsed].settlements] == ["lapsed"]
    assert [s.status for s in states[partly].settlements] == ["lapsed"]
    assert states[legacy].settlements == ()
    waived = states[settled].settlements[0].waived_total
    assert waived > 0
    with app.engine.connect() as conn:
        stored = {r.loan_id: r for r in conn.execute(select(tables.loan_states))}
        cases = {r.loan_id: r.stage for r in conn.execute(select(tables.cases))}
        waivers = conn.execute(
            select(tables.allocations.c.amount).where(
                tables.allocations.c.loan_id == settled,
                tables.allocations.c.payment_id == "waiver",
            )
        ).scalars().all()  # fmt: skip
    # Settled: it owes nothing, its case leaves collection as a loan paid off does.
    row = stored[settled]
    assert (row.dpd, row.stage, row.outstanding_principal) == (0, "settled", 0)
    assert cases[settled] == "settled"
    assert sum(waivers) == waived
    # Lapsed: owed as if there had been no settlement.
    loan, payments = by_id[lapsed]
    plain = app.terms.evaluate(loan, payments, END)
    assert (stored[lapsed].dpd, stored[lapsed].charged) == (plain.dpd, plain.charged)
    shown = loan_document(states[settled], "CNY", loan.product, 360)["settlements"]
    assert (shown[0]["status"], shown[0]["deadline"]) == ("settled", by.isoformat())
    assert shown[0]["waived"]["total"] == format_amount(waived)
    daily = dump(app.engine)
    forget_runs(app.engine)
    run(app, END)
    assert dump(app.engine) == daily


def test_plans_approved_between_runs_are_the_domains(app: App) -> None:
    first = END - timedelta(days=40)
    run(app, first)
    late = sorted(((app.evaluate(loan, p, first).dpd, loan.loan_id)
                   for loan, p in app.ledger.load_book()), reverse=True)  # fmt: skip
    planned, back_dated, extended, ahead = (loan_id for _, loan_id in late[:4])
    # Effective the day after the run; back-dated before it; one then extended; one ahead
    # of the next run.
    approve(app, planned, "plan", first + timedelta(days=1), {"months": 3})
    approve(app, back_dated, "plan", first - timedelta(days=6), {"months": 2})
    approve(app, extended, "plan", first + timedelta(days=1), {"months": 6})
    approve(app, extended, "extension", first + timedelta(days=3), {"days": 10})
    approve(app, ahead, "plan", first + timedelta(days=20), {"months": 2})
    pay(app, "Q-0", planned, 1_000, first + timedelta(days=5))
    run(app, first + timedelta(days=10))
    states_are_the_domains(app, first + timedelta(days=10))
    run(app, END)
    states_are_the_domains(app, END)
    by_id = {loan.loan_id: (loan, p)
             for loan, p in app.ledger.load_book([planned, back_dated, extended,
                                                   ahead])}  # fmt: skip
    states = {loan_id: app.evaluate(*by_id[loan_id], END) for loan_id in by_id}
    assert all(len(states[loan_id].plans) == 1 for loan_id in by_id)
    assert states[planned].plans[0].principal > 0
    with app.engine.connect() as conn:
        stored = {r.loan_id: r for r in conn.execute(select(tables.loan_states))}
        parts = conn.execute(
            select(tables.installment_states.c.seq).where(
                tables.installment_states.c.loan_id == planned,
                tables.installment_states.c.seq < 0,
            )
        ).scalars().all()  # fmt: skip
        moved = conn.execute(
            select(tables.allocations.c.amount).where(
                tables.allocations.c.loan_id == planned,
                tables.allocations.c.payment_id == "plan",
            )
        ).scalars().all()  # fmt: skip
    assert sorted(parts) == [-103, -102, -101]
    plan = states[planned].plans[0]
    assert sum(moved) == plan.principal + plan.interest
    assert stored[planned].outstanding_principal == states[planned].outstanding_principal
    # A day's catch-up of the whole span gives what the nights gave.
    daily = dump(app.engine)
    forget_runs(app.engine)
    run(app, END)
    assert dump(app.engine) == daily
    loan, _ = by_id[planned]
    shown = loan_document(states[planned], "CNY", loan.product, 360)["plans"]
    assert (shown[0]["months"], len(shown[0]["parts"])) == (3, 3)
    assert shown[0]["parts"][0]["due_date"] == plan.parts[0].due_date.isoformat()
    assert shown[0]["principal"] == format_amount(plan.principal)
    assert {p["status"] for p in shown[0]["parts"]} <= {"pending", "past_due", "paid"}

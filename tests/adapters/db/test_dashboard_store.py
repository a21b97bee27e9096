"""The dashboard's store on SQLite and PostgreSQL: roll rates follow the loans from one
complete month's end to the next; money per currency; collectors credited from assignment."""

import itertools
from collections import Counter
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, update

from arrears.adapters.db import tables
from arrears.adapters.db.casework_tables import assignments, placements
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.domain.access import Principal, Role
from arrears.services.dashboard import dashboard
from arrears.services.staff_setup import set_agency_commission
from tests.entrypoints.web.desk_book import AS_OF, build_desk
from tests.feed_files import import_synthetic

ADMIN = Principal("admin", Role.ADMIN, None, None)
AT = datetime(2026, 1, 1, tzinfo=UTC)
MONTH_ENDS = [date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31),
              date(2025, 6, 30)]  # fmt: skip
LAST = date(2025, 7, 17)  # July is under way


@pytest.fixture
def app(migrated: Engine, tmp_path: Path) -> App:
    """A 40-loan synthetic book with its payments, not run yet."""
    application = App(str(migrated.url), load_settings(None))
    application.__dict__["engine"] = migrated  # share the fixture's engine (its schema)
    book = synthetic_book(40, date(2025, 1, 6), 60, seed=11)
    import_synthetic(application, book, tmp_path)
    return application


def test_roll_rates_are_the_loans_own_moves_between_complete_month_ends(app: App) -> None:
    for day in (*MONTH_ENDS, LAST):
        run_day(app.runs, app.run_context(day), AT)
    book = list(app.ledger.load_book())
    bucket = {  # each loan's bucket at each month's end, as the domain evaluates it
        (loan.loan_id, day): app.terms.evaluate(loan, paid, day).bucket
        for loan, paid in book
        for day in MONTH_ENDS
    }
    flows = dashboard(app.dashboards, ADMIN, LAST).flows
    assert {r.month for r in flows} == {"2025-03", "2025-04", "2025-05", "2025-06"}
    for before, end in itertools.pairwise(MONTH_ENDS):
        # The loans lent by the month's end: one not lent yet is in no bucket (helper-64).
        lent = [loan for loan, _ in book if loan.contract_date <= before]
        was = Counter(bucket[loan.loan_id, before] for loan in lent)
        rolled = Counter(
            bucket[loan.loan_id, before]
            for loan in lent
            if (bucket[loan.loan_id, before], bucket[loan.loan_id, end])
            in {(r.source, r.target) for r in flows}
        )
        for rate in (r for r in flows if r.month == f"{end:%Y-%m}"):
            expected = Fraction(rolled[rate.source], was[rate.source]) if was[rate.source] else None
            assert rate.rate == expected, (rate, was, rolled)
    assert any(r.rate for r in flows)  # the book rolls
    with app.engine.connect() as conn:
        kept = conn.execute(select(tables.month_end_buckets.c.month_end).distinct()).scalars()
        assert sorted(kept) == MONTH_ENDS  # not 17 July's
    with app.engine.connect() as conn:
        first = conn.execute(select(func.count()).where(
            tables.month_end_buckets.c.month_end == MONTH_ENDS[0])).scalar_one()  # fmt: skip
    assert 0 < first == sum(loan.contract_date <= MONTH_ENDS[0] for loan, _ in book) < len(book)


def test_the_buckets_count_the_loans_the_run_counts(app: App) -> None:
    # Loans signed after the run's day are in no bucket (CONTRACT.md): the dashboard had
    # counted them M0, beside the run summary's (helper-118).
    day = MONTH_ENDS[0]
    summary = run_day(app.runs, app.run_context(day), AT)
    book = [loan for loan, _ in app.ledger.load_book()]
    assert any(loan.contract_date > day for loan in book)  # some are not lent yet
    board = dashboard(app.dashboards, ADMIN, day).figures.buckets
    assert {b: n for b, (n, _) in board.items()} == {
        b: n for b, n in summary["buckets"].items() if n
    }


def test_a_rerun_of_a_month_end_replaces_its_buckets(app: App) -> None:
    run_day(app.runs, app.run_context(MONTH_ENDS[-1]), AT)
    with app.engine.connect() as conn:
        once = conn.execute(select(tables.month_end_buckets)).all()
    run_day(app.runs, app.run_context(MONTH_ENDS[-1]), AT)  # the latest run again
    with app.engine.connect() as conn:
        assert sorted(conn.execute(select(tables.month_end_buckets)).all()) == sorted(once)
    assert len(once) == 40


def test_money_per_currency_and_collectors_credited_from_assignment(
    store_url: str, tmp_path: Path
) -> None:
    desk = build_desk(store_url, tmp_path)  # as tests/entrypoints/web: cases assigned on AS_OF
    try:
        with desk.engine.begin() as conn:
            conn.execute(
                update(tables.loans)
                .where(tables.loans.c.loan_id == "L0000107")
                .values(currency="USD")
            )
            conn.execute(
                update(assignments)
                .where(assignments.c.loan_id == "L0000107")
                .values(assigned_on=date(2025, 9, 23))  # the day it paid 2790.25
            )
        figures = dashboard(desk.dashboards, ADMIN, AS_OF).figures
    finally:
        desk.close()
    assert figures.buckets["M1"] == (3, {"CNY": 78178 + 56500, "USD": 1531})
    assert figures.collected_by_collector["col-east-1"] == {"USD": 279025}
    assert "col-east-2" not in figures.collected_by_collector  # paid 2025-09-12, assigned after


def test_an_agencys_collections_at_each_placements_rate_after_its_rate_changed(
    store_url: str, tmp_path: Path
) -> None:
    # agency-hz's cases were placed at 0.18 on AS_OF; its rate then changed to 0.25. L0000091
    # is taken as placed at 0.20 (written so) before AS_OF, L0000079 at 0.18.
    desk = build_desk(store_url, tmp_path)
    try:
        was = set_agency_commission(desk.identity, ADMIN, "agency-hz", "0.25", AT)
        assert was == "0.18"
        with desk.engine.begin() as conn:
            for loan_id, rate in (("L0000079", "0.18"), ("L0000091", "0.20")):
                conn.execute(update(placements).where(placements.c.loan_id == loan_id)
                             .values(placed_on=date(2025, 9, 5), commission_rate=rate))  # fmt: skip
            conn.execute(insert(tables.payments), [
                {"payment_id": p, "loan_id": loan_id, "amount": amount, "paid_on": on}
                for p, loan_id, amount, on in (("PX1", "L0000079", 25, AS_OF),
                                               ("PX2", "L0000091", 1_001, AS_OF),
                                               ("PX3", "L0000091", 7, date(2025, 9, 4)))
            ])  # fmt: skip
        board = dashboard(desk.dashboards, ADMIN, AS_OF)
    finally:
        desk.close()
    assert board.figures.collected_by_agency == {
        "agency-hz": {"0.18": {"CNY": 25}, "0.2": {"CNY": 1_001}}
    }
    # 0.18 × 25 = 4.5 → 5 (half up, not to even); 0.2 × 1,001 = 200.2 → 200.
    assert board.commissions == {"agency-hz": {"0.18": {"CNY": 5}, "0.2": {"CNY": 200}}}

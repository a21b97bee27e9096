"""A product's limit on late fees in all in a Parquet book: kept night by night by loans that
rest between nights and carry the late fees they were charged, and set between nights."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from arrears.adapters.book_tables import GIVEN, given_otherwise
from arrears.adapters.parquet_store import ParquetEngineStore, rules_fingerprint
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.pipeline import RunContext
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.domain.late_fees import LateFeeLimit
from tests.adapters.test_parquet_pauses import domain_book

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)
PLAIN = App("sqlite://", load_settings(None))
# The UK's HCSTC default cap (£15 of default fees in all) over a late fee of £12: a loan's
# first late fee is asked whole, its second 3.00, any later one nothing.
HCSTC = LateFeeLimit(1_500, "FCA CONC 5A.3.18R")


def uk(day: date, limit: LateFeeLimit | None = HCSTC) -> RunContext:
    """The run's context with both products made UK loans charging a late fee of 12.00,
    limited by `limit`."""
    ctx = PLAIN.run_context(day)
    products = {
        code: replace(ctx.terms.products[code], jurisdiction="uk", cap="none", day_count=365,
                      late_fee=1_200, late_fee_limit=limit)
        for code in ("cn-cash", "cn-private")
    }  # fmt: skip
    return replace(ctx, terms=replace(ctx.terms, products={**ctx.terms.products, **products}))


def test_a_limit_on_late_fees_is_kept_night_by_night(tmp_path: Path) -> None:
    tables = synthetic_frames(60, AS_OF, seed=7, history_days=150)
    book_of = domain_book(tables)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    days = [AS_OF - timedelta(days=back) for back in range(45, -1, -3)]
    for day in days:
        ctx = uk(day)
        run_day(store, ctx, AT)
        for row in store.table(day, "loan_states").iter_rows(named=True):
            loan, payments = book_of[row["loan_id"]]
            ref = ctx.terms.evaluate(loan, [p for p in payments if p.paid_on <= day], day)
            got = (row["charged"], row["overdue_fees"], row["overdue_penalty"])
            assert got == (ref.charged, ref.overdue.fees, ref.overdue.penalty), (
                row["loan_id"], day,
            )  # fmt: skip
    # What the nights asked of loans already charged a late fee before them: less than the fee
    # (the state carried what they were charged), and no loan more than the limit.
    ctx = uk(AS_OF)
    cut_short = 0
    for loan, payments in book_of.values():
        ref = ctx.terms.evaluate(loan, payments, AS_OF)
        assert ref.total_charged("late_fee") <= HCSTC.total
        cut_short += any(c.kind == "late_fee" and c.amount < 1_200 and c.posted_on > days[0]
                         for c in ref.charges)  # fmt: skip
    assert cut_short >= 2


def test_a_limit_on_late_fees_set_between_nights_replays_the_book(tmp_path: Path) -> None:
    # The products first without the limit, then with it and nothing else changed: the rules'
    # fingerprint changes, and every loan is charged as the domain charges it under the limit.
    tables = synthetic_frames(40, AS_OF, seed=11, history_days=150)
    book_of = domain_book(tables)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    assert rules_fingerprint(uk(AS_OF, None).terms, {}) != rules_fingerprint(uk(AS_OF).terms, {})
    run_day(store, uk(AS_OF - timedelta(days=3), None), AT)
    run_day(store, uk(AS_OF), AT)
    unlimited = uk(AS_OF, None).terms
    lower = 0
    for row in store.table(AS_OF, "loan_states").iter_rows(named=True):
        loan, payments = book_of[row["loan_id"]]
        ref = uk(AS_OF).terms.evaluate(loan, payments, AS_OF)
        assert (row["charged"], row["overdue_fees"]) == (ref.charged, ref.overdue.fees)
        lower += ref.charged < unlimited.evaluate(loan, payments, AS_OF).charged
    assert lower >= 2  # the limit binds some of the book's loans


def test_a_state_that_kept_no_given_terms_replays_the_loans_under_a_limit() -> None:
    # A full (Spark) run before 2026-12-04 kept no given terms: no state of then was worked
    # under a limit, nor counted the late fees, so the loans now under one are run again from
    # their contract dates (helper-90); the others, and a loan the state has not, are not.
    loans = pl.DataFrame({
        "loan_id": ["L1", "L2", "L3", "L4"], "cap_total": [None, 5_000, None, None],
        "late_fee_total": [1_500, None, None, 1_500],
    }, schema_overrides={"cap_total": pl.Int64, "late_fee_total": pl.Int64})  # fmt: skip
    stored = {"loan_balances": pl.DataFrame({"loan_id": ["L1", "L2", "L3"]})}
    schedule = pl.DataFrame(schema=GIVEN["given_schedule"])
    again = given_otherwise(loans, schedule, stored)
    assert again.get_column("loan_id").to_list() == ["L1", "L2"]
    assert given_otherwise(loans, schedule, {}).height == 0  # a first run: nothing stored

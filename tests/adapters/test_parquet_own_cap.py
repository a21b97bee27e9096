"""A product's own cost cap in a Parquet book: set, then dropped, in the settings between
nights; each night every loan's charges are the domain's under that night's settings, and
the cuts under the own cap cite it. Its limit on total charges likewise, night by night and
set between nights."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import polars as pl

from arrears.adapters.parquet_store import ParquetEngineStore, rules_fingerprint
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.pipeline import RunContext
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.domain.caps import OWN_CAP_RULE, OwnCap
from tests.adapters.test_parquet_pauses import domain_book

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)
PLAIN = App("sqlite://", load_settings(None))
OWN = OwnCap(Fraction("0.10"), "lender policy: 10 %/yr all-in")


def capped(day: date, own: OwnCap = OWN) -> RunContext:
    """The run's context with both Chinese products under the lender's own cap."""
    ctx = PLAIN.run_context(day)
    products = {
        code: replace(ctx.terms.products[code], own_cap=own) for code in ("cn-cash", "cn-private")
    }
    return replace(ctx, terms=replace(ctx.terms, products={**ctx.terms.products, **products}))


def test_an_own_cap_set_then_dropped_replays_the_book_under_each_nights_settings(
    tmp_path: Path,
) -> None:
    tables = synthetic_frames(30, AS_OF, seed=11, history_days=150)
    book_of = domain_book(tables)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    plain: Callable[[date], RunContext] = PLAIN.run_context
    days = [AS_OF - timedelta(days=d) for d in (6, 3, 0)]
    assert rules_fingerprint(plain(AS_OF).terms, {}) != rules_fingerprint(capped(AS_OF).terms, {})
    for day, ctx_of in zip(days, (plain, capped, plain), strict=True):
        ctx, shipped = ctx_of(day), PLAIN.run_context(day).terms
        run_day(store, ctx, AT)
        lower = 0
        for row in store.table(day, "loan_states").iter_rows(named=True):
            loan, payments = book_of[row["loan_id"]]
            mine = [p for p in payments if p.paid_on <= day]
            ref = ctx.terms.evaluate(loan, mine, day)
            got = (row["charged"], row["overdue_penalty"], row["overdue_interest"])
            assert got == (ref.charged, ref.overdue.penalty, ref.overdue.interest), row["loan_id"]
            lower += ref.charged < shipped.evaluate(loan, mine, day).charged
        cuts = store.table(day, "cuts").filter(pl.col("rule_id") == OWN_CAP_RULE)
        if ctx_of is capped:
            assert lower > 5  # the own cap binds many of the book's loans
            assert set(cuts.get_column("source")) == {OWN.source}
        else:
            assert (lower, cuts.height) == (0, 0)


def test_an_own_caps_source_reworded_is_cited_by_every_cut(tmp_path: Path) -> None:
    # Nothing else changes: every cut under the own cap, the earlier days' too, cites the new
    # words, as one run under the new settings would.
    tables = synthetic_frames(30, AS_OF, seed=11, history_days=150)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    reworded = replace(OWN, source="lender policy v2")
    run_day(store, capped(AS_OF - timedelta(days=3)), AT)
    run_day(store, capped(AS_OF, reworded), AT)
    cuts = store.table(AS_OF, "cuts").filter(pl.col("rule_id") == OWN_CAP_RULE)
    assert cuts.height
    assert set(cuts.get_column("source")) == {reworded.source}


# The UK's two HCSTC caps, the total tightened to 8 % of the principal lent and no payment
# made, so that loans resting past due between nights meet it: each must wake the day its
# penalty meets the total (ageing._cap_binds). (The night's tail room under the total, which
# these books do not reach, is tested in test_tails_left_in_place.)
TOTAL = OwnCap(Fraction("2.92"), "FCA CONC 5A.3.2R, 5A.3.3R", Fraction("0.08"))


def uk_capped(day: date, own: OwnCap = TOTAL) -> RunContext:
    """The run's context with both products made UK high-cost short-term credit."""
    ctx = PLAIN.run_context(day)
    products = {
        code: replace(ctx.terms.products[code], jurisdiction="uk", cap="none", day_count=365,
                      own_cap=own)
        for code in ("cn-cash", "cn-private")
    }  # fmt: skip
    return replace(ctx, terms=replace(ctx.terms, products={**ctx.terms.products, **products}))


def test_a_total_cap_is_kept_night_by_night_by_loans_resting_between(tmp_path: Path) -> None:
    tables = synthetic_frames(40, AS_OF, seed=5, history_days=150)
    tables["payments"] = tables["payments"].head(0)
    book_of = domain_book(tables)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    met: dict[str, list[int]] = {}  # each loan at the total: its days past due, night by night
    for back in range(8, -1, -1):
        day = AS_OF - timedelta(days=back)
        ctx = uk_capped(day)
        run_day(store, ctx, AT)
        for row in store.table(day, "loan_states").iter_rows(named=True):
            loan, _ = book_of[row["loan_id"]]
            ref = ctx.terms.evaluate(loan, [], day)
            got = (row["charged"], row["overdue_penalty"], row["overdue_interest"])
            assert got == (ref.charged, ref.overdue.penalty, ref.overdue.interest), (
                row["loan_id"], day,
            )  # fmt: skip
            if ref.charged == loan.principal * 8 // 100:
                met.setdefault(loan.loan_id, []).append(ref.dpd)
    # Some meet it during these nights, resting between (the others met it before them).
    assert sum(len(dpd) < 9 for dpd in met.values()) >= 2
    cuts = store.table(AS_OF, "cuts").filter(pl.col("rule_id") == OWN_CAP_RULE)
    assert set(cuts.get_column("source")) == {TOTAL.source}


def test_a_cap_on_total_charges_set_replays_the_book(tmp_path: Path) -> None:
    # The products first without the limit, then with it and nothing else changed: the rules'
    # fingerprint changes, and every loan is charged as the domain charges it under the limit.
    tables = synthetic_frames(30, AS_OF, seed=11, history_days=150)
    book_of = domain_book(tables)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    run_day(store, uk_capped(AS_OF - timedelta(days=3), replace(TOTAL, total=None)), AT)
    ctx = uk_capped(AS_OF, replace(TOTAL, total=Fraction("0.03")))
    run_day(store, ctx, AT)
    plain = uk_capped(AS_OF, replace(TOTAL, total=None)).terms
    lower = 0
    for row in store.table(AS_OF, "loan_states").iter_rows(named=True):
        loan, payments = book_of[row["loan_id"]]
        ref = ctx.terms.evaluate(loan, payments, AS_OF)
        assert row["charged"] == ref.charged, row["loan_id"]
        lower += ref.charged < plain.evaluate(loan, payments, AS_OF).charged
    assert lower > 3  # the limit binds many of the book's loans

"""Holds that pause loans' clocks in a Parquet book: placed back-dated, changed, lifted and
withdrawn between nights, the nights end where a run working every loan ends, and every
loan's state is the domain's evaluation with its borrower's holds."""

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.adapters.parquet_store import ParquetEngineStore, rules_fingerprint
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.pipeline import RunContext
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.domain.contact import Hold
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.product import Product
from tests.adapters.test_parquet_nights import add_payment_part, same_state, same_tables

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)
PLAIN = App("sqlite://", load_settings(None))
# Disputes stop both clocks of a cash loan; hardship stops a private loan's charges.
PAUSING = {
    "cn-cash": replace(PLAIN.settings.products["cn-cash"], pause_ageing=("dispute",),
                       pause_charges=("dispute", "hardship")),
    "cn-private": replace(PLAIN.settings.products["cn-private"], pause_charges=("hardship",)),
}  # fmt: skip
HOLDS = pl.Schema({"borrower_id": pl.String, "kind": pl.String, "starts_on": pl.Date,
                   "ends_on": pl.Date})  # fmt: skip
Night = list[tuple[int, str, int, int | None]]  # (borrower pick, kind, start back, days)


def context(day: date) -> RunContext:
    """The run's context with products that pause their clocks for some holds."""
    ctx = PLAIN.run_context(day)
    return replace(ctx, terms=replace(ctx.terms, products={**ctx.terms.products, **PAUSING}))


def holds_of(borrowers: list[str], night: Night, day: date) -> pl.DataFrame:
    """A night's holds input: each (which borrower, kind, days before the night it starts,
    how many days it lasts or None: open)."""
    rows = {}
    for pick, kind, back, days in night:
        start = day - timedelta(days=back)
        end = None if days is None else start + timedelta(days=days)
        rows[(borrowers[pick % len(borrowers)], kind, start)] = end
    return pl.DataFrame([(*key, end) for key, end in rows.items()], schema=HOLDS, orient="row")


def domain_book(tables: dict[str, pl.DataFrame]) -> dict[str, tuple[Loan, list[Payment]]]:
    """The book's loans and payments as the domain takes them."""
    lines: dict[str, list[Installment]] = {}
    for r in tables["installments"].iter_rows(named=True):
        lines.setdefault(r["loan_id"], []).append(
            Installment(
                r["seq"], r["due_date"], r["principal_due"], r["interest_due"], r["fee_due"] or 0
            )
        )
    paid: dict[str, list[Payment]] = {}
    for r in tables["payments"].iter_rows(named=True):
        paid.setdefault(r["loan_id"], []).append(Payment(r["payment_id"], r["amount"],
                                                         r["paid_on"]))  # fmt: skip
    return {
        r["loan_id"]: (Loan(
            r["loan_id"], r["borrower_id"], r["product"], "CNY", r["principal"],
            Fraction(r["annual_rate"]), r["contract_date"], tuple(lines[r["loan_id"]]),
            Fraction(r["penalty_rate"]) if r["penalty_rate"] else None,
        ), paid.get(r["loan_id"], []))
        for r in tables["loans"].iter_rows(named=True)
    }  # fmt: skip


def agree_with_the_domain(
    store: ParquetEngineStore, book: dict[str, tuple[Loan, list[Payment]]], holds: pl.DataFrame,
    day: date,
) -> None:  # fmt: skip
    """Every loan's state after the run of `day` is evaluate_loan's with its holds."""
    held: dict[str, list[Hold]] = {}
    for r in holds.iter_rows(named=True):
        held.setdefault(r["borrower_id"], []).append(Hold(r["kind"], r["starts_on"],
                                                          r["ends_on"]))  # fmt: skip
    terms = context(day).terms
    states = store.table(day, "loan_states")
    for row in states.iter_rows(named=True):
        loan, payments = book[row["loan_id"]]
        mine = [p for p in payments if p.paid_on <= day]
        if loan.contract_date > day:
            continue
        ref = terms.evaluate(loan, mine, day, held.get(loan.borrower_id, []))
        got = (row["dpd"], row["bucket"], row["overdue_penalty"], row["overdue_fees"],
               row["charged"])  # fmt: skip
        want = (ref.dpd, ref.bucket, ref.overdue.penalty, ref.overdue.fees, ref.charged)
        assert got == want, (row["loan_id"], day, got, want)


def nights_with_holds(root: Path, seed: int, loans: int, days: list[date],
                      nights: list[Night]) -> None:  # fmt: skip
    """Run the book on `days`, its holds input each night's (`nights`), in two copies: night
    by night and working every loan; they agree, and with the domain."""
    tables = synthetic_frames(loans, AS_OF, seed=seed, history_days=150)
    book_of = domain_book(tables)
    payments = tables.pop("payments")
    shutil.rmtree(root, ignore_errors=True)
    books = []
    for name in ("nights", "whole"):
        folder = write_book(tables, root / name)
        (folder / "payments").mkdir()
        payments.filter(pl.col("paid_on") <= days[0]).write_parquet(folder / "payments/0.parquet")
        books.append(folder)
    incremental = ParquetEngineStore(books[0])
    whole = ParquetEngineStore(books[1], work_all=True)
    borrowers = sorted(tables["loans"].get_column("borrower_id").unique().to_list())
    for k, day in enumerate(days):
        if k:
            fresh = payments.filter((pl.col("paid_on") > days[k - 1]) & (pl.col("paid_on") <= day))
            for book in books:
                add_payment_part(book, f"day-{k}", fresh)
        holds = holds_of(borrowers, nights[k], day)
        for book in books:
            holds.write_parquet(book / "holds.parquet")
        ctx = context(day)
        summary = run_day(incremental, ctx, AT)
        assert summary == run_day(whole, ctx, AT)
        same_tables(incremental, whole, day)
        if k:
            same_state(incremental, whole, days[k - 1])
        agree_with_the_domain(incremental, book_of, holds, day)
    kinds = [r.kind for r in incremental.folder.runs()]
    assert kinds == ["base"] + ["delta"] * (len(days) - 1)


HOLD = st.tuples(st.integers(0, 40), st.sampled_from(["dispute", "hardship", "deceased"]),
                 st.integers(-5, 60), st.one_of(st.none(), st.integers(0, 40)))  # fmt: skip


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.integers(1, 10_000), st.integers(20, 40),
       st.sets(st.integers(0, 14), min_size=2, max_size=4).map(sorted),
       st.lists(st.lists(HOLD, max_size=6), min_size=4, max_size=4))  # fmt: skip
def test_holds_changing_between_nights_agree_with_the_whole_book_and_the_domain(
    tmp_path: Path, seed: int, loans: int, back: list[int], nights: list[Night]
) -> None:
    days = [AS_OF - timedelta(days=d) for d in reversed(back)]
    nights_with_holds(tmp_path / f"p-{seed}", seed, loans, days, nights)


def test_a_dispute_placed_back_dated_lifted_and_withdrawn(tmp_path: Path) -> None:
    # Every borrower disputes from 30 days back (open); then the dispute is lifted; then it
    # is withdrawn altogether; then a hardship hold reaches back before the first night.
    days = [AS_OF - timedelta(days=d) for d in (9, 6, 3, 0)]
    every: Night = [(n, "dispute", 30, None) for n in range(40)]
    lifted: Night = [(n, "dispute", 33, 31) for n in range(40)]
    hardship: Night = [(n, "hardship", 20, 5) for n in range(40)]
    nights: list[Night] = [every, lifted, [], hardship]
    nights_with_holds(tmp_path / "fixed", 42, 30, days, nights)


def test_holds_placed_ahead_stop_loans_resting_between_nights(tmp_path: Path) -> None:
    # The same holds every night, placed ahead: a dispute that begins and ends between two
    # nights, an open hardship hold that begins between two others. No loan is rebuilt for
    # them after the first night; the nights must work the held loans on the days between.
    days = [AS_OF - timedelta(days=d) for d in (12, 8, 4, 0)]
    dispute, hardship = days[0] + timedelta(days=2), days[1] + timedelta(days=1)

    def held(day: date) -> Night:
        return [
            *((n, "dispute", (day - dispute).days, 3) for n in range(0, 40, 2)),
            *((n, "hardship", (day - hardship).days, None) for n in range(1, 40, 2)),
        ]

    nights_with_holds(tmp_path / "ahead", 7, 30, days, [held(day) for day in days])


def test_a_product_that_pauses_nothing_fingerprints_as_before() -> None:
    # A state kept before pauses existed is not read as of other rules (a whole-book night).
    plain = PLAIN.run_context(AS_OF)
    assert Product("p").pause_ageing == ()
    assert "pause" not in repr(Product("p"))
    assert rules_fingerprint(plain.terms, plain.ladders) != rules_fingerprint(
        context(AS_OF).terms, plain.ladders
    )


def test_pause_settings_changed_in_the_settings_replay_the_held_loans(tmp_path: Path) -> None:
    # Terms are not dated (MONEY_RULES.md, "Terms changed in the settings"): the same holds
    # every night, the products pausing nothing, then pausing, then nothing again. Each
    # night every loan's state is the domain's under that night's settings, from its
    # contract date (a night reads the whole book when the pause settings change).
    tables = synthetic_frames(30, AS_OF, seed=5, history_days=150)
    book_of = domain_book(tables)
    borrowers = sorted(tables["loans"].get_column("borrower_id").unique().to_list())
    days = [AS_OF - timedelta(days=d) for d in (6, 3, 0)]
    held: Night = [(n, "dispute", 40, None) for n in range(0, 40, 2)]
    held += [(n, "hardship", 30, 10) for n in range(1, 40, 2)]
    tables["holds"] = holds_of(borrowers, held, days[0])
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    plain: Callable[[date], RunContext] = PLAIN.run_context
    before = 0
    for day, ctx_of in zip(days, (plain, context, plain), strict=True):
        ctx = ctx_of(day)
        run_day(store, ctx, AT)
        held_by: dict[str, list[Hold]] = {}
        for r in tables["holds"].iter_rows(named=True):
            held_by.setdefault(r["borrower_id"], []).append(
                Hold(r["kind"], r["starts_on"], r["ends_on"])
            )
        paused = 0
        for row in store.table(day, "loan_states").iter_rows(named=True):
            loan, payments = book_of[row["loan_id"]]
            mine = [p for p in payments if p.paid_on <= day]
            ref = ctx.terms.evaluate(loan, mine, day, held_by.get(loan.borrower_id, []))
            paused += bool(ref.pauses)
            got = (row["dpd"], row["bucket"], row["overdue_penalty"], row["charged"])
            assert got == (ref.dpd, ref.bucket, ref.overdue.penalty, ref.charged), row["loan_id"]
        assert bool(paused) == (ctx_of is context)
        # The held loans are worked afresh the nights the settings change.
        assert store.table(day, "replayed").height >= max(paused, before)
        before = paused

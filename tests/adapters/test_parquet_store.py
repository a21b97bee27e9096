"""The Parquet book store: runs commit all or nothing, re-runs change nothing, back-dated
payments replay their loan to the state a fresh run would give."""

import hashlib
import json
import threading
from collections.abc import Callable
from copy import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.adapters import book_folder, book_views, early_write, parquet_store
from arrears.adapters.book_tables import OUTPUTS
from arrears.adapters.line_segments import read_all_lines
from arrears.adapters.loan_table import read_loan_table
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch import contact_plan, pipeline
from arrears.batch.pipeline import (
    PIPELINE,
    UNREAD,
    UNREAD_HISTORY,
    RunContext,
    RunFrames,
    run_pipeline,
)
from arrears.batch.run import RunRefused, run_day, summarise
from arrears.bootstrap import App
from arrears.domain.loan import Installment, Loan, Payment

AS_OF = date(2025, 11, 18)
YESTERDAY = AS_OF - timedelta(days=1)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)
TABLES = synthetic_frames(40, AS_OF, seed=4, history_days=120)


def context(day: date) -> RunContext:
    return App("sqlite://", load_settings(None)).run_context(day)


def run(store: ParquetEngineStore, day: date) -> dict[str, Any]:
    return run_day(store, context(day), AT)


def snapshot(store: ParquetEngineStore, day: date) -> dict[str, pl.DataFrame]:
    return store.tables(day, list(OUTPUTS))


def same(mine: dict[str, pl.DataFrame], theirs: dict[str, pl.DataFrame]) -> None:
    for name in OUTPUTS:
        assert_frame_equal(mine[name], theirs[name], check_row_order=False)


@pytest.fixture
def book(tmp_path: Path) -> ParquetEngineStore:
    """A 40-loan book run up to yesterday."""
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    run(store, YESTERDAY)
    return store


def test_a_run_killed_while_writing_leaves_the_previous_run(
    book: ParquetEngineStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (book.folder.state / "runs.json").read_text(encoding="utf-8")
    written: list[str] = []

    def dies_after_three(folder: Path, name: str, frame: pl.DataFrame, **options: Any) -> None:
        if len(written) == 3:
            raise KeyboardInterrupt("killed")
        written.append(name)
        book_folder.write_table(folder, name, frame, **options)

    monkeypatch.setattr(early_write, "write_table", dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        run(book, AS_OF)
    assert (book.folder.state / "runs.json").read_text(encoding="utf-8") == before
    assert book.last_run() == YESTERDAY
    monkeypatch.undo()
    run(book, AS_OF)
    clean = ParquetEngineStore(write_book(TABLES, tmp_path / "clean"))
    run(clean, YESTERDAY)
    run(clean, AS_OF)
    same(snapshot(book, AS_OF), snapshot(clean, AS_OF))
    assert not list(book.folder.state.glob(".tmp-*"))


def test_a_nights_tables_come_from_one_read_of_its_loan_table_and_lines(
    book: ParquetEngineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table of a night asked for at once: the loan table and the lines are read once
    for all the views built from them, and each table is what it is asked for alone."""
    run(book, AS_OF)
    assert book.folder.runs()[-1].kind == "delta"  # its state views are put together
    reads: list[str] = []

    def counted(read: Callable[..., Any]) -> Callable[..., Any]:
        def reading(*args: Any, **kwargs: Any) -> Any:
            reads.append(read.__name__)
            return read(*args, **kwargs)

        return reading

    for read in (read_loan_table, read_all_lines):
        monkeypatch.setattr(book_views, read.__name__, counted(read))
    together = book.tables(AS_OF, list(OUTPUTS))
    assert sorted(reads) == ["read_all_lines", "read_loan_table"]
    reads.clear()
    book.table(AS_OF, "cases")  # a view of the loan table alone: no line is read
    assert reads == ["read_loan_table"]
    for name in OUTPUTS:
        assert_frame_equal(together[name], book.table(AS_OF, name))


def test_a_run_killed_before_its_record_is_forgotten_and_cleared(
    book: ParquetEngineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(path: Path, document: dict[str, Any]) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(book_folder, "write_json_atomically", killed)
    with pytest.raises(KeyboardInterrupt):
        run(book, AS_OF)
    assert book.last_run() == YESTERDAY
    monkeypatch.undo()
    run(book, AS_OF)
    folders = sorted(p.name for p in book.folder.state.glob("run-*"))
    assert folders == sorted(r.folder for r in book.folder.runs())


def test_re_running_the_latest_day_changes_nothing(book: ParquetEngineStore) -> None:
    first = run(book, AS_OF)
    tables = snapshot(book, AS_OF)
    assert run(book, AS_OF) == first
    same(snapshot(book, AS_OF), tables)
    assert [r.as_of for r in book.folder.runs()] == [YESTERDAY, AS_OF]


def three_late_loans(folder: Path) -> Path:
    """Three loans of one instalment each, due 2026-01-31 and never paid: a night wakes none
    of them (nothing falls due, no money comes), and the cn ladder calls them every other
    day."""
    folder.mkdir()
    loans = ["L1", "L2", "L3"]
    pl.DataFrame({"borrower_id": ["B1", "B2", "B3"],
                  "phone": ["+8613812345671", "+8613812345672", "+8613812345673"]},
                 ).write_parquet(folder / "borrowers.parquet")  # fmt: skip
    pl.DataFrame({
        "loan_id": loans, "borrower_id": ["B1", "B2", "B3"], "product": "cn-cash",
        "principal": 100_000, "annual_rate": "0.24", "contract_date": date(2025, 12, 1),
    }).write_parquet(folder / "loans.parquet")  # fmt: skip
    pl.DataFrame({
        "loan_id": loans, "seq": 1, "due_date": date(2026, 1, 31), "principal_due": 100_000,
        "interest_due": 1_000,
    }).write_parquet(folder / "installments.parquet")  # fmt: skip
    payments = {"payment_id": pl.String, "loan_id": pl.String, "amount": pl.Int64,
                "paid_on": pl.Date}  # fmt: skip
    (folder / "payments").mkdir()  # a folder of parts: a lender adds one a day
    pl.DataFrame(schema=payments).write_parquet(folder / "payments" / "0.parquet")
    return folder


@pytest.mark.parametrize("work_all", [False, True])
@pytest.mark.parametrize("change", ["another day", "amounts swapped"])
def test_a_payment_given_again_otherwise_replays_its_loan(
    tmp_path: Path, work_all: bool, change: str
) -> None:
    # A payment before the last run given again with another day (or two payments' amounts
    # swapped): the loan's count and sum of payments stay, yet its ledger changes; the run
    # replayed nothing and kept the old allocations (helper-56: 5,200.00 past due where
    # 5,240.00 is right). The loan is worked again from its contract to the domain's state.
    book = tmp_path / "book"
    book.mkdir()
    pl.DataFrame({"borrower_id": ["B1"], "phone": ["+8613800138000"]}).write_parquet(
        book / "borrowers.parquet"
    )
    pl.DataFrame({
        "loan_id": ["L1"], "borrower_id": ["B1"], "product": ["cn-cash"],
        "contract_date": [date(2025, 6, 1)], "principal": [1_000_000], "annual_rate": ["0.24"],
        "penalty_rate": ["0.36"],
    }).write_parquet(book / "loans.parquet")  # fmt: skip
    pl.DataFrame({"loan_id": ["L1"], "seq": [1], "due_date": [date(2025, 7, 1)],
                  "principal_due": [1_000_000], "interest_due": [20_000]},
                 ).write_parquet(book / "installments.parquet")  # fmt: skip
    (book / "payments").mkdir()

    def pay(rows: list[tuple[str, int, date]]) -> None:
        pl.DataFrame(rows, schema={"payment_id": pl.String, "amount": pl.Int64,
                                   "paid_on": pl.Date}, orient="row").with_columns(
            loan_id=pl.lit("L1")).write_parquet(book / "payments" / "a.parquet")  # fmt: skip

    first, again = {
        "another day": ([("P1", 500_000, date(2025, 7, 2))], [("P1", 500_000, date(2025, 7, 8))]),
        "amounts swapped": (
            [("P1", 300_000, date(2025, 7, 2)), ("P2", 200_000, date(2025, 7, 8))],
            [("P1", 200_000, date(2025, 7, 2)), ("P2", 300_000, date(2025, 7, 8))],
        ),
    }[change]
    store = ParquetEngineStore(book, work_all=work_all)
    pay(first)
    run(store, date(2025, 7, 10))
    pay(again)
    day = date(2025, 7, 11)
    run(store, day)
    contract = Loan(
        "L1",
        "B1",
        "cn-cash",
        "CNY",
        1_000_000,
        Fraction("0.24"),
        date(2025, 6, 1),
        (Installment(1, date(2025, 7, 1), 1_000_000, 20_000),),
        Fraction("0.36"),
    )
    paid = [Payment(i, amount, on) for i, amount, on in again]
    state = context(day).terms.evaluate(contract, paid, day)
    stored = store.table(day, "loan_states").row(0, named=True)
    assert (stored["overdue_principal"], stored["overdue_penalty"], stored["charged"]) == (
        state.overdue.principal, state.overdue.penalty, state.charged,
    )  # fmt: skip
    assert store.table(day, "replayed").get_column("loan_id").to_list() == ["L1"]


def test_a_book_without_fees_in_its_schedule_runs_its_nights(tmp_path: Path) -> None:
    # fee_due is optional: lines stored with none owed must read as 0 on the nights after
    # (a null made the tail kernel's matrix floats, and the night stopped with a TypeError).
    nights = ParquetEngineStore(three_late_loans(tmp_path / "nights"))
    whole = ParquetEngineStore(three_late_loans(tmp_path / "whole"), work_all=True)
    day = date(2026, 2, 20)
    paid = pl.DataFrame({"payment_id": ["P1"], "loan_id": ["L1"], "amount": [50_000],
                         "paid_on": [day + timedelta(days=1)]})  # fmt: skip
    for store in (nights, whole):
        run(store, day)
        paid.write_parquet(store.folder.root / "payments" / "1.parquet")
    assert run(nights, day + timedelta(days=1)) == run(whole, day + timedelta(days=1))
    assert [r.kind for r in nights.folder.runs()] == ["base", "delta"]
    same(snapshot(nights, day + timedelta(days=1)), snapshot(whole, day + timedelta(days=1)))


@pytest.mark.parametrize("work_all", [False, True])
def test_a_re_run_after_opt_outs_reports_the_plan_it_made(tmp_path: Path, work_all: bool) -> None:
    # A re-run of the latest day: on a night that wakes no loan, nothing moves, yet its plan
    # follows the opt-outs recorded since; the summary must say so, not the first run's.
    store = ParquetEngineStore(three_late_loans(tmp_path / "book"), work_all=work_all)
    day = date(2026, 2, 11)
    run(store, day - timedelta(days=1))
    first = run(store, day)
    assert first["planned_contacts"] == {"call": 3}
    opted = pl.DataFrame({"borrower_id": ["B1", "B2", "B3"], "channel": "call",
                          "since": datetime(2026, 1, 1, tzinfo=UTC)})  # fmt: skip
    opted.write_parquet(store.folder.root / "opt_outs.parquet")
    again = run(store, day)
    assert again["planned_contacts"] == {}
    assert again["blocked_contacts"] == {"cn.opt_out": 3}
    assert store.table(day, "plan").filter(pl.col("channel") == "call").height == 0
    posted = ("interest_posted", "penalty_posted", "fees_posted", "cap_cut", "days_run")
    assert {k: again[k] for k in posted} == {k: first[k] for k in posted}


@pytest.mark.parametrize("work_all", [False, True])
def test_a_re_run_after_a_payment_withdrawn_reports_what_a_clean_run_posts(
    tmp_path: Path, work_all: bool
) -> None:
    # A payment part of the day given, run, then withdrawn: the re-run, waking no loan,
    # reported the first run's amounts (posted with the payment), not its own (helper-55).
    day = date(2026, 2, 11)
    stores = [ParquetEngineStore(three_late_loans(tmp_path / name), work_all=work_all)
              for name in ("rerun", "clean")]  # fmt: skip
    for store in stores:
        run(store, day - timedelta(days=1))
    paid = stores[0].folder.root / "payments" / "today.parquet"
    pl.DataFrame({"payment_id": ["P1"], "loan_id": ["L1"], "amount": [60_000],
                  "paid_on": [day]}).write_parquet(paid)  # fmt: skip
    first = run(stores[0], day)
    paid.unlink()
    again, clean = run(stores[0], day), run(stores[1], day)
    assert first["penalty_posted"] != clean["penalty_posted"]  # the payment changed the day
    assert again == clean
    same(snapshot(stores[0], day), snapshot(stores[1], day))


def test_a_run_before_the_last_is_refused(book: ParquetEngineStore) -> None:
    with pytest.raises(RunRefused, match="move it back in time"):
        run(book, YESTERDAY - timedelta(days=1))


def test_a_run_that_a_later_run_overtook_while_it_waited_is_refused_holding_the_book(
    book: ParquetEngineStore,
) -> None:
    # run_day asked for the last run before the book was held: a run for a later day may
    # finish in between. Committed, this run would drop that run's state (out of its chain).
    waiting = ParquetEngineStore(book.folder.root)
    run(ParquetEngineStore(book.folder.root), AS_OF)
    tables = snapshot(book, AS_OF)
    with pytest.raises(RunRefused, match=f"run up to {AS_OF} while this run for {YESTERDAY}"):
        waiting.load(context(YESTERDAY))
    same(snapshot(book, AS_OF), tables)
    assert [r.as_of for r in book.folder.runs()] == [YESTERDAY, AS_OF]
    run(waiting, AS_OF)  # the book was let go


def test_a_run_that_an_earlier_days_run_overtook_as_it_began_is_refused(tmp_path: Path) -> None:
    # run_day reads the last run before the day, then the store takes the book: a run of a
    # day in between may finish meanwhile (another process's), and this run's totals would
    # count from the day before it (helper-55: the summary said days_run 2, since the day
    # before). It is refused, nothing written; run again, it counts from that run.
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    run(store, YESTERDAY - timedelta(days=1))

    class Overtaken(ParquetEngineStore):
        def load(self, ctx: RunContext) -> RunFrames:
            run(ParquetEngineStore(self.folder.root), YESTERDAY)
            return super().load(ctx)

    with pytest.raises(RunRefused, match=f"another run of the book \\(for {YESTERDAY}\\)"):
        run(Overtaken(store.folder.root), AS_OF)
    assert [r.as_of for r in store.folder.runs()] == [YESTERDAY - timedelta(days=1), YESTERDAY]
    summary = run(store, AS_OF)
    assert (summary["since"], summary["days_run"]) == (YESTERDAY.isoformat(), 1)


def test_a_back_dated_payment_replays_its_loan_to_a_fresh_runs_state(
    book: ParquetEngineStore, tmp_path: Path
) -> None:
    owed = book.table(YESTERDAY, "loan_states").filter(pl.col("dpd") > 20).row(0, named=True)
    late = pl.DataFrame(
        {"payment_id": ["BACKDATED"], "loan_id": [owed["loan_id"]], "amount": [50_000],
         "paid_on": [AS_OF - timedelta(days=10)]},
        schema=TABLES["payments"].schema,
    )  # fmt: skip
    with_late = {**TABLES, "payments": pl.concat([TABLES["payments"], late])}
    with_late["payments"].write_parquet(book.folder.input_parts("payments")[0])
    run(book, AS_OF)
    assert book.table(AS_OF, "replayed").get_column("loan_id").to_list() == [owed["loan_id"]]
    fresh = ParquetEngineStore(write_book(with_late, tmp_path / "fresh"))
    run(fresh, YESTERDAY)
    run(fresh, AS_OF)
    for name in ("loan_states", "loan_balances", "instalment_states"):
        assert_frame_equal(book.table(AS_OF, name), fresh.table(AS_OF, name))


_OWED = pl.col("loan_id") == "L00000003"  # past due on both days, with a penalty running
CORRECTIONS: dict[str, tuple[str, Callable[[pl.DataFrame], pl.DataFrame]]] = {
    "a due date moved": ("installments", lambda d: d.with_columns(
        pl.when(_OWED & (pl.col("seq") == 1)).then(pl.col("due_date") + timedelta(days=20))
        .otherwise(pl.col("due_date")).alias("due_date"))),
    "an amount due": ("installments", lambda d: d.with_columns(
        pl.when(_OWED & (pl.col("seq") == 2)).then(pl.col("interest_due") - 100)
        .otherwise(pl.col("interest_due")).alias("interest_due"))),
    "an instalment withdrawn": ("installments", lambda d: d.filter(
        ~(_OWED & (pl.col("seq") == d.filter(_OWED).get_column("seq").max())))),
    "the rate": ("loans", lambda d: d.with_columns(
        pl.when(_OWED).then(pl.lit("0.12")).otherwise(pl.col("annual_rate")).alias("annual_rate"))),
    "the principal": ("loans", lambda d: d.with_columns(
        pl.when(_OWED).then(pl.col("principal") + 1_000).otherwise(pl.col("principal")))),
}  # fmt: skip


@pytest.mark.parametrize("what", list(CORRECTIONS))
def test_a_loan_given_otherwise_since_the_last_run_replays_to_a_fresh_runs_state(
    book: ParquetEngineStore, tmp_path: Path, what: str
) -> None:
    # A lender's system corrects a loan it sent before: the night runs it again from its
    # contract date, as a run of the book as it now is would (the others rest as they were).
    assert book.table(YESTERDAY, "loan_states").filter(_OWED).item(0, "dpd") > 20
    name, correct = CORRECTIONS[what]
    fixed = {**TABLES, name: correct(TABLES[name])}
    assert not fixed[name].equals(TABLES[name])
    fixed[name].write_parquet(book.folder.root / f"{name}.parquet")
    run(book, AS_OF)
    assert book.table(AS_OF, "replayed").get_column("loan_id").to_list() == ["L00000003"]
    fresh = ParquetEngineStore(write_book(fixed, tmp_path / "fresh"))
    run(fresh, YESTERDAY)
    run(fresh, AS_OF)
    for table in ("loan_states", "loan_balances", "instalment_states"):
        assert_frame_equal(book.table(AS_OF, table), fresh.table(AS_OF, table))


def a_payments_part(book: ParquetEngineStore, rows: dict[str, list[Any]]) -> None:
    """Turn the payments input into a folder of parts and add one with `rows`."""
    [single] = book.folder.input_parts("payments")
    parts = single.with_suffix("")
    parts.mkdir()
    single.rename(parts / "history.parquet")
    pl.DataFrame(rows).write_parquet(parts / "today.parquet")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"payment_id": ["P1"], "loan_id": ["L00000001"], "amount": [100],
          "paid_on": ["2025-11-18"]},
         "payments/today.parquet: column 'paid_on' is String, expected Date"),
        ({"payment_id": ["P1"], "loan_id": ["L00000001"], "paid_on": [AS_OF]},
         "payments/today.parquet: no column 'amount'"),
        ({"payment_id": ["P1"], "loan_id": ["L00000001"], "amount": ["1.00"], "paid_on": [AS_OF]},
         "column 'amount' is String, expected Int64"),
        ({"payment_id": ["P1"], "loan_id": ["NOT-A-LOAN"], "amount": [100], "paid_on": [AS_OF]},
         r"payments for loans not in the book: P1 \(loan NOT-A-LOAN\)"),
        ({"payment_id": ["P1", "P2"], "loan_id": ["L00000001"] * 2,
          "amount": pl.Series([0, -100], dtype=pl.Int64), "paid_on": [AS_OF] * 2},
         r"payments of no amount above zero \(in fen\): P1 \(0\), P2 \(-100\)"),
        ({"payment_id": ["P1", "P2", "P3"], "loan_id": ["L00000001"] * 3,
          "amount": pl.Series([100, 100, None], dtype=pl.Int64), "paid_on": [AS_OF] * 3},
         r"payments/today.parquet: column 'amount' is empty in row 3 \(P3\)"),
        ({"payment_id": ["P1"], "loan_id": ["L00000001"], "amount": [100],
          "paid_on": pl.Series([None], dtype=pl.Date)},
         r"payments/today.parquet: column 'paid_on' is empty in row 1 \(P1\)"),
        # One id, two amounts: which is the payment? Neither is taken.
        ({"payment_id": ["P1", "P1"], "loan_id": ["L00000001"] * 2, "amount": [100, 200],
          "paid_on": [AS_OF] * 2},
         r"a payment id comes with different loans, amounts or days \(1 ids\): P1 for loan "
         r"L00000001, 100 fen on 2025-11-18; P1 for loan L00000001, 200 fen"),
    ],
)  # fmt: skip
def test_a_bad_payments_part_is_refused_by_name_and_nothing_is_written(
    book: ParquetEngineStore, rows: dict[str, list[Any]], message: str
) -> None:
    before = book.folder.runs()
    a_payments_part(book, rows)
    with pytest.raises(book_folder.BookFolderError, match=message):
        run(book, AS_OF)
    assert book.folder.runs() == before
    assert sorted(p.name for p in book.folder.state.iterdir() if p.name.startswith(".tmp")) == []


def test_a_book_read_whole_refuses_a_payment_of_nothing(tmp_path: Path) -> None:
    payments = TABLES["payments"]
    nothing = payments.head(1).with_columns(pl.lit(0, pl.Int64).alias("amount"),
                                            pl.lit("NOTHING").alias("payment_id"))  # fmt: skip
    store = ParquetEngineStore(write_book(
        {**TABLES, "payments": pl.concat([payments, nothing])}, tmp_path / "book"
    ))  # fmt: skip
    with pytest.raises(book_folder.BookFolderError, match=r"NOTHING \(0\)"):
        run(store, YESTERDAY)
    assert store.folder.runs() == []


def clean_run(tmp_path: Path) -> ParquetEngineStore:
    """The same book run up to AS_OF in one go, each night the usual way."""
    clean = ParquetEngineStore(write_book(TABLES, tmp_path / "clean"))
    run(clean, YESTERDAY)
    run(clean, AS_OF)
    return clean


def everything(store: ParquetEngineStore, day: date) -> dict[str, pl.DataFrame]:
    """A run's outputs and the whole book's state after it."""
    [record] = [r for r in store.folder.runs() if r.as_of == day]
    return {**snapshot(store, day), **store.full_state(record)}


def like_a_clean_run(stores: list[ParquetEngineStore], tmp_path: Path) -> None:
    """Each store's outputs and whole state after AS_OF are a clean run's."""
    clean = everything(clean_run(tmp_path), AS_OF)
    for store in stores:
        mine = everything(store, AS_OF)
        assert mine.keys() == clean.keys()
        for name, frame in clean.items():
            assert_frame_equal(mine[name], frame, check_row_order=False)


def begun_and_marked(book: ParquetEngineStore, ctx: RunContext) -> RunFrames:
    """The pipeline run with the store told of each step; the folder it began (once the
    ageing step ran: there before save) marked."""
    frames = run_pipeline(book.load(ctx), ctx, book.progress)
    [begun] = book.folder.state.glob(".tmp-*")
    (begun / "begun-here").touch()
    return frames


def committed_the_begun(book: ParquetEngineStore) -> bool:
    """Whether the run committed for AS_OF is the folder begun_and_marked marked."""
    [record] = [r for r in book.folder.runs() if r.as_of == AS_OF]
    return (book.folder.state / record.folder / "begun-here").exists()


def test_lines_begun_while_the_pipeline_runs_are_the_ones_save_would_write(
    book: ParquetEngineStore, tmp_path: Path
) -> None:
    ctx = context(AS_OF)
    frames = begun_and_marked(book, ctx)
    book.save(frames, AS_OF, summarise(frames, AS_OF, YESTERDAY), AT)
    assert committed_the_begun(book)  # what was begun is not written again
    # Without the store told of the steps, save writes the lines itself.
    alone = ParquetEngineStore(write_book(TABLES, tmp_path / "alone"))
    run(alone, YESTERDAY)
    frames = run_pipeline(alone.load(ctx), ctx)
    assert not list(alone.folder.state.glob(".tmp-*"))
    alone.save(frames, AS_OF, summarise(frames, AS_OF, YESTERDAY), AT)
    like_a_clean_run([book, alone], tmp_path)


def test_a_run_that_dies_after_its_lines_were_begun_leaves_nothing(
    book: ParquetEngineStore, tmp_path: Path
) -> None:
    ctx = context(AS_OF)
    frames = book.load(ctx)
    for name, step in PIPELINE:
        frames = step(frames, ctx)
        book.progress(name, frames)
        if name == "ageing":
            break  # the run dies here, its lines begun
    assert list(book.folder.state.glob(".tmp-*"))
    assert book.last_run() == YESTERDAY
    book.load(ctx)  # the next run starts over: what was begun is dropped first
    assert not list(book.folder.state.glob(".tmp-*"))
    run(book, AS_OF)
    assert not list(book.folder.state.glob(".tmp-*"))
    like_a_clean_run([book], tmp_path)


def _copied(frames: RunFrames, name: str) -> RunFrames:
    """`frames` with its `name` frame replaced by an equal copy (a step after the ageing
    that gave it anew)."""
    value = getattr(frames, name)
    return replace(frames, **{name: value.clone() if hasattr(value, "clone") else copy(value)})


@pytest.mark.parametrize("name", ["summaries", "book", "postings", "replay"])
def test_lines_and_postings_begun_for_other_frames_are_written_again(
    book: ParquetEngineStore, tmp_path: Path, name: str
) -> None:
    frames = begun_and_marked(book, context(AS_OF))
    # A step after the ageing replaced what was begun with (the lines are written from the
    # book and summaries, the ledger's outputs from the postings and the loans rebuilt).
    other = _copied(frames, name)
    book.save(other, AS_OF, summarise(other, AS_OF, YESTERDAY), AT)
    assert not list(book.folder.state.glob(".tmp-*"))
    assert not committed_the_begun(book)  # written again, into a folder of their own
    like_a_clean_run([book], tmp_path)


def test_the_loan_table_is_written_once_and_beside_the_plan(
    book: ParquetEngineStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once the stages ran, the worked loans' rows are final: the store writes them on its
    # own thread, after the lines, while the plan is made; save only waits for them.
    threads: list[str] = []
    events: list[str] = []
    write, plan = book._write_table, contact_plan.plan_actions
    begin = early_write.EarlyWrite.begin_table

    def recorded(frames: RunFrames) -> tuple[bool, dict[str, set[str]]]:
        threads.append(threading.current_thread().name)
        return write(frames)

    def begun(*args: Any) -> None:
        events.append("table begun")
        begin(*args)

    def planned(*args: Any) -> Any:
        events.append("plan made")
        return plan(*args)

    monkeypatch.setattr(book, "_write_table", recorded)
    monkeypatch.setattr(early_write.EarlyWrite, "begin_table", begun)
    monkeypatch.setattr(pipeline, "plan_actions", planned)
    frames = begun_and_marked(book, context(AS_OF))
    book.save(frames, AS_OF, summarise(frames, AS_OF, YESTERDAY), AT)
    assert events == ["table begun", "plan made"]
    assert len(threads) == 1
    assert threads[0] != threading.main_thread().name
    assert committed_the_begun(book)
    like_a_clean_run([book], tmp_path)


def test_a_loan_table_begun_for_other_cases_is_written_again(book: ParquetEngineStore) -> None:
    frames = begun_and_marked(book, context(AS_OF))
    # A step after the stages moved a worked loan's case: the rows begun are not its.
    loan = frames.book.loans.get_column("loan_id")[0]
    mine = pl.col("loan_id") == loan
    later = frames.cases.with_columns(
        pl.when(mine).then(pl.lit("a later step's")).otherwise(pl.col("reason").cast(pl.String))
        .cast(pl.Categorical()).alias("reason")
    )  # fmt: skip
    other = replace(frames, cases=later)
    book.save(other, AS_OF, summarise(other, AS_OF, YESTERDAY), AT)
    assert not list(book.folder.state.glob(".tmp-*"))
    cases = book.table(AS_OF, "cases").filter(mine)
    assert cases.get_column("reason").to_list() == ["a later step's"]


def test_the_plan_waits_for_the_people_a_night_is_still_reading(
    book: ParquetEngineStore, tmp_path: Path
) -> None:
    ctx = context(AS_OF)
    frames = book.load(ctx)
    assert frames.people is UNREAD
    assert frames.history is UNREAD_HISTORY
    assert frames.people_read is not None
    with pytest.raises(RuntimeError, match="still being read"):
        UNREAD.reach.of(pl.Series(["B1"]))
    with pytest.raises(RuntimeError, match="still being read"):
        UNREAD_HISTORY.of(["L1"])
    read_people, read_history = frames.people_read()  # the read's result (read once)
    waited = run_pipeline(frames, ctx)
    assert waited.people_read is None
    # The plan took both from the read: its people and the loans' history for the guards.
    assert waited.people is read_people
    assert waited.history is read_history
    book.save(waited, AS_OF, summarise(waited, AS_OF, YESTERDAY), AT)
    # The same plan as a store that reads every loan and its people before the pipeline.
    whole = ParquetEngineStore(write_book(TABLES, tmp_path / "whole"), work_all=True)
    run(whole, YESTERDAY)
    run(whole, AS_OF)
    assert book.table(AS_OF, "plan").height > 0
    for name in ("plan", "blocked"):
        assert_frame_equal(book.table(AS_OF, name), whole.table(AS_OF, name))


def test_a_bad_borrowers_input_found_after_the_lines_were_begun_leaves_nothing(
    book: ParquetEngineStore,
) -> None:
    before = book.folder.runs()
    [borrowers] = book.folder.input_parts("borrowers")
    pl.read_parquet(borrowers).drop("phone").write_parquet(borrowers)
    with pytest.raises(book_folder.BookFolderError, match="phone"):
        run(book, AS_OF)
    assert book.folder.runs() == before
    assert not list(book.folder.state.glob(".tmp-*"))


def test_a_run_tells_its_store_the_frames_after_every_step(
    book: ParquetEngineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[tuple[str, bool, date | None]] = []
    progress = book.progress

    def recorded(step: str, frames: RunFrames) -> None:
        told.append((step, frames.summaries is not None, frames.cases.item(0, "as_of")))
        progress(step, frames)

    monkeypatch.setattr(book, "progress", recorded)
    run(book, AS_OF)
    # Each step by its name, after it ran: the loans are aged from the ageing on, and the
    # cases moved to today from the stages on (what the store begins writing after each).
    assert [step for step, _, _ in told] == [name for name, _ in PIPELINE]
    assert [aged for _, aged, _ in told] == [False, True, True, True, True]
    assert [on for _, _, on in told] == [YESTERDAY] * 3 + [AS_OF] * 2


@pytest.mark.parametrize(
    ("module", "writer"),
    [(early_write, "write_segment"), (early_write, "ledger_outputs"),
     (parquet_store, "write_loan_table")],
)  # fmt: skip
def test_a_failed_early_write_reaches_the_run_and_leaves_nothing(
    book: ParquetEngineStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: ModuleType,
    writer: str,
) -> None:
    # The lines, the ledger's outputs and the loan table are written on a thread of their
    # own, beside the later steps: a failure there is the run's.
    before = (book.folder.state / "runs.json").read_text(encoding="utf-8")

    def disk_full(*args: Any) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(module, writer, disk_full)
    with pytest.raises(OSError, match="no space left"):
        run(book, AS_OF)
    assert (book.folder.state / "runs.json").read_text(encoding="utf-8") == before
    assert not list(book.folder.state.glob(".tmp-*"))
    monkeypatch.undo()
    run(book, AS_OF)
    like_a_clean_run([book], tmp_path)


def test_a_run_failing_after_its_lines_were_begun_drops_them_at_once(
    book: ParquetEngineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    begun: list[Path] = []

    def fails(*args: Any, **kwargs: Any) -> Any:
        begun.extend(book.folder.state.glob(".tmp-*"))
        raise ValueError("the plan failed")

    monkeypatch.setattr(pipeline, "plan_actions", fails)
    with pytest.raises(ValueError, match="the plan failed"):
        run(book, AS_OF)
    assert begun  # the lines were being written when the plan failed
    assert not list(book.folder.state.glob(".tmp-*"))
    assert book.last_run() == YESTERDAY


def test_a_worked_loan_entering_a_case_afresh_gets_its_ladder_and_arm_back_in_place(
    book: ParquetEngineStore,
) -> None:
    # An incremental night lays the worked loans' cases back by position, only the columns
    # its transition changed: a loan whose case went missing is given one whole again.
    ctx = context(AS_OF)
    frames = book.load(ctx)
    for name, step in PIPELINE:
        if name == "stages":
            break
        frames = step(frames, ctx)
    assert frames.stored.height == frames.cases.height  # the positional branch
    worked = frames.stored.get_column("worked").arg_true()
    loan = frames.cases.get_column("loan_id")[worked[0]]
    mine = pl.col("loan_id") == loan
    was = frames.cases.filter(mine).select("ladder", "arm").row(0)
    assert None not in was
    blank = frames.cases.with_columns(
        pl.when(mine).then(None).otherwise(pl.col(n)).alias(n) for n in ("stage", "ladder", "arm")
    )
    cases = pipeline.stages(replace(frames, cases=blank), ctx).cases
    book.abandon()
    # Arms come from a stable hash of the loan: it gets the one it had.
    assert cases.filter(mine).select("ladder", "arm").row(0) == was
    assert cases.filter(mine).get_column("entered_on").item() == AS_OF


NOTICE_DAY = date(2026, 5, 2)  # L1 of three_late_loans enters "late" (three calls failed)


def called_thrice(book: Path) -> Path:
    """three_late_loans with three failed calls to L1's borrower on two days in April: on
    NOTICE_DAY its owed formal notice is planned and its placement refused until the notice
    is sent."""
    at = [datetime(2026, 4, 20, 2, tzinfo=UTC), datetime(2026, 4, 21, 2, tzinfo=UTC),
          datetime(2026, 4, 21, 3, tzinfo=UTC)]  # fmt: skip
    folder = three_late_loans(book)
    pl.DataFrame({
        "borrower_id": "B1", "contact_id": None, "channel": "call",
        "to_phone": "+8613812345671", "at": at, "outcome": "no_answer",
    }, schema_overrides={"contact_id": pl.String}).write_parquet(
        folder / "contact_attempts.parquet"
    )  # fmt: skip
    return folder


def send_the_notice(store: ParquetEngineStore, day: date) -> None:
    """Record L1's formal notice of the day's plan as sent (as an executor does)."""
    [record] = [r for r in store.folder.runs() if r.as_of == day]
    sent = (pl.col("loan_id") == "L1") & (pl.col("action") == "formal_notice")
    for part in book_folder.part_files(store.folder.table_path(record, "plan")):
        plan = pl.read_parquet(part).with_columns(
            pl.when(sent).then(pl.lit("done")).otherwise("status").alias("status"),
            pl.when(sent).then(pl.lit("sent")).otherwise("outcome").alias("outcome"),
        )
        plan.write_parquet(part)


def test_a_rerun_of_the_day_counts_what_its_first_run_carried_out(tmp_path: Path) -> None:
    # The notice is carried out that day; the day run again finds it, as the database's
    # outbox does, and places the loan (before, the day's own plan was not read: refused).
    store = ParquetEngineStore(called_thrice(tmp_path / "book"))
    day = NOTICE_DAY
    run(store, day)
    refused = store.table(day, "blocked").filter(pl.col("loan_id") == "L1")
    assert "escalation.agency_placement" in refused.get_column("rule").to_list()
    send_the_notice(store, day)
    assert store.done_actions(day).filter(pl.col("loan_id") == "L1").height == 1
    run(store, day)
    placed = store.table(day, "plan").filter(pl.col("loan_id") == "L1")
    assert "agency_placement" in placed.get_column("action").to_list()
    # The notice, not planned again (it was sent), stays on record as sent: a third run of
    # the day finds it too, plans it no second time and changes nothing (helper-55: the
    # re-run's plan dropped it, and the next re-run planned it again).
    notice = placed.filter(pl.col("action") == "formal_notice")
    assert notice.select("status", "outcome").rows() == [("done", "sent")]
    assert store.done_actions(day).filter(pl.col("loan_id") == "L1").height == 1
    tables = snapshot(store, day)
    run(store, day)
    same(snapshot(store, day), tables)


def test_a_stage_label_added_later_leaves_the_rules_fingerprint_as_it_was() -> None:
    # A book's stored state is read as of the rules it was made by; a new optional ladder key
    # left unset must not read as other rules: after the upgrade that added label_zh_tw,
    # every night replayed the whole book (23 s instead of 1 s on the bench).
    from dataclasses import asdict, replace

    from arrears.adapters.parquet_store import rules_fingerprint

    ctx = App("sqlite://", load_settings(None)).run_context(AS_OF)
    before = {p: asdict(ladder) for p, ladder in ctx.ladders.items()}
    for facts in before.values():
        for stage in facts["stages"]:
            del stage["label_zh_tw"]  # as the code before it fingerprinted a ladder
        for guard in facts["guards"]:
            for requirement in guard["requires"]:
                if requirement["min_days"] is None:  # added later too (placements standing)
                    del requirement["min_days"]
    text = repr((sorted(ctx.terms.products.items()), sorted(ctx.terms.cap_policies.items()),
                 ctx.terms.lpr))  # fmt: skip
    old = json.dumps(before, sort_keys=True, default=parquet_store._plain)
    expected = hashlib.sha256((text + old).encode()).hexdigest()[:16]
    assert rules_fingerprint(ctx.terms, ctx.ladders) == expected
    cn = ctx.ladders["cn-cash"]
    named = replace(cn, stages=(replace(cn.stages[0], label_zh_tw="名稱"), *cn.stages[1:]))
    assert rules_fingerprint(ctx.terms, {**ctx.ladders, "cn-cash": named}) != expected

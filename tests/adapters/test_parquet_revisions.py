"""Approved extensions in a Parquet book (its `revisions` input): approvals arriving night
after night, some effective that night, some back-dated, some ahead, the nights end where a
run working every loan ends, and every loan's state is the domain's evaluation with them."""

import shutil
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.adapters.book_folder import BookFolderError
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.revisions import REVISION_SCHEMA, revisions_by_loan
from arrears.batch.run import run_day
from arrears.domain.loan import Loan, Payment
from arrears.domain.revisions import SETTLEMENT
from tests.adapters.test_parquet_nights import add_payment_part, same_state, same_tables
from tests.adapters.test_parquet_pauses import AS_OF, AT, PLAIN, domain_book

# An approval: (which loan, days before the night it is effective (negative: ahead), days).
Approval = tuple[int, int, int]
# An input of extensions as written before settlements were taken: no amount or deadline.
EXTENSIONS = pl.Schema({"loan_id": pl.String(), "kind": pl.String(), "effective_on": pl.Date(),
                        "days": pl.Int64()})  # fmt: skip


def agree_with_the_domain(
    store: ParquetEngineStore, book: dict[str, tuple[Loan, list[Payment]]],
    revisions: pl.DataFrame, day: date,
) -> None:  # fmt: skip
    """Every loan's state after the run of `day` is evaluate_loan's with its revisions."""
    revised = revisions_by_loan(revisions)
    terms = PLAIN.run_context(day).terms
    for row in store.table(day, "loan_states").iter_rows(named=True):
        loan, payments = book[row["loan_id"]]
        if loan.contract_date > day:
            continue
        mine = [p for p in payments if p.paid_on <= day]
        ref = terms.evaluate(loan, mine, day, (), revised.get(loan.loan_id, []))
        got = (row["dpd"], row["bucket"], row["overdue_penalty"], row["overdue_fees"],
               row["charged"], row["outstanding_principal"])  # fmt: skip
        want = (ref.dpd, ref.bucket, ref.overdue.penalty, ref.overdue.fees, ref.charged,
                ref.outstanding_principal)  # fmt: skip
        assert got == want, (row["loan_id"], day, got, want)


def two_books(
    root: Path, tables: dict[str, pl.DataFrame], payments: pl.DataFrame, first: date
) -> tuple[list[Path], ParquetEngineStore, ParquetEngineStore]:
    """The book written twice under `root`, its payments up to `first`: the folders, a store
    that runs it night by night and one that works every loan."""
    books = []
    for name in ("nights", "whole"):
        folder = write_book(tables, root / name)
        (folder / "payments").mkdir()
        payments.filter(pl.col("paid_on") <= first).write_parquet(folder / "payments/0.parquet")
        books.append(folder)
    return books, ParquetEngineStore(books[0]), ParquetEngineStore(books[1], work_all=True)


def arrive(books: list[Path], payments: pl.DataFrame, after: date, day: date, name: str) -> None:
    """The payments dated after `after` up to `day` arrive in every copy, as a part `name`."""
    fresh = payments.filter((pl.col("paid_on") > after) & (pl.col("paid_on") <= day))
    for folder in books:
        add_payment_part(folder, name, fresh)


def nights_agree(
    root: Path, tables: dict[str, pl.DataFrame], payments: pl.DataFrame,
    revisions: pl.DataFrame, days: list[date], book_of: dict[str, tuple[Loan, list[Payment]]],
) -> ParquetEngineStore:  # fmt: skip
    """Run the book (its `revisions` input as given) on `days`, each day's payments arriving,
    in two copies: night by night and working every loan; they agree, and with the domain.
    The night-by-night store."""
    books, incremental, whole = two_books(root, tables, payments, days[0])
    for folder in books:
        revisions.write_parquet(folder / "revisions.parquet")
    for k, day in enumerate(days):
        if k:
            arrive(books, payments, days[k - 1], day, f"day-{k}")
        ctx = PLAIN.run_context(day)
        assert run_day(incremental, ctx, AT) == run_day(whole, ctx, AT)
        same_tables(incremental, whole, day)
        agree_with_the_domain(incremental, book_of, revisions, day)
    return incremental


def nights_with_revisions(
    root: Path, seed: int, loans: int, days: list[date], nights: list[list[Approval]]
) -> None:
    """Run the book on `days`, each night's approvals added to its revisions input, in two
    copies: night by night and working every loan; they agree, and with the domain."""
    tables = synthetic_frames(loans, AS_OF, seed=seed, history_days=150)
    book_of = domain_book(tables)
    payments = tables.pop("payments")
    ids = sorted(tables["loans"].get_column("loan_id").to_list())
    shutil.rmtree(root, ignore_errors=True)
    books, incremental, whole = two_books(root, tables, payments, days[0])
    approved: dict[tuple[str, date], int] = {}
    for k, day in enumerate(days):
        if k:
            arrive(books, payments, days[k - 1], day, f"day-{k}")
        for pick, back, moved in nights[k]:
            approved[(ids[pick % len(ids)], day - timedelta(days=back))] = moved
        revisions = pl.DataFrame(
            [(loan, "extension", on, moved) for (loan, on), moved in sorted(approved.items())],
            schema=EXTENSIONS, orient="row",
        )  # fmt: skip
        for folder in books:
            revisions.write_parquet(folder / "revisions.parquet")
        ctx = PLAIN.run_context(day)
        summary = run_day(incremental, ctx, AT)
        assert summary == run_day(whole, ctx, AT)
        same_tables(incremental, whole, day)
        if k:
            same_state(incremental, whole, days[k - 1])
        agree_with_the_domain(incremental, book_of, revisions, day)
    assert [r.kind for r in incremental.folder.runs()] == ["base"] + ["delta"] * (len(days) - 1)


APPROVAL = st.tuples(st.integers(0, 60), st.integers(-6, 8), st.integers(1, 40))


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.integers(1, 10_000), st.integers(20, 40),
       st.sets(st.integers(0, 14), min_size=2, max_size=4).map(sorted),
       st.lists(st.lists(APPROVAL, max_size=5), min_size=4, max_size=4))  # fmt: skip
def test_approvals_night_after_night_agree_with_the_whole_book_and_the_domain(
    tmp_path: Path, seed: int, loans: int, back: list[int], nights: list[list[Approval]]
) -> None:
    days = [AS_OF - timedelta(days=d) for d in reversed(back)]
    nights_with_revisions(tmp_path / f"r-{seed}", seed, loans, days, nights)


def test_extensions_effective_tonight_ahead_and_added_to(tmp_path: Path) -> None:
    # Every loan extended 20 days on the first night; a third again 10 days, effective
    # between the second and third nights (given ahead); some extended back-dated.
    days = [AS_OF - timedelta(days=d) for d in (9, 6, 3, 0)]
    nights: list[list[Approval]] = [
        [(n, 0, 20) for n in range(30)],
        [(n, -2, 10) for n in range(0, 30, 3)],
        [(n, 5, 7) for n in range(1, 30, 4)],
        [],
    ]
    nights_with_revisions(tmp_path / "fixed", 11, 30, days, nights)


@pytest.mark.parametrize(
    ("kind", "refusal"),
    [("waiver", "a kind the ledger does not apply"),
     # An input written without the months column: a plan there has none.
     ("plan", "a plan's months missing")],
)  # fmt: skip
def test_a_revision_the_ledger_does_not_apply_is_refused_by_name(
    tmp_path: Path, kind: str, refusal: str
) -> None:
    tables = synthetic_frames(5, AS_OF, seed=2, history_days=60)
    folder = write_book(tables, tmp_path / "book")
    loan = tables["loans"].get_column("loan_id")[0]
    pl.DataFrame([(loan, kind, AS_OF, None)], schema=EXTENSIONS, orient="row").write_parquet(
        folder / "revisions.parquet"
    )
    with pytest.raises(BookFolderError, match=f"{refusal}.*{loan}"):
        run_day(ParquetEngineStore(folder), PLAIN.run_context(AS_OF), AT)


def test_a_revision_withdrawn_from_the_input_moves_nothing_the_next_night(
    tmp_path: Path,
) -> None:
    # Every loan extended 30 days (effective 20 days before the first night), withdrawn
    # from the input before the second night (an approval given by mistake, say), a third
    # extended again before the third: each night's states are the domain's with the
    # revisions given then, night by night and working every loan. The state a night kept
    # had the moved due dates: the loans it revised are worked from their contract date.
    tables = synthetic_frames(30, AS_OF, seed=11, history_days=150)
    book_of = domain_book(tables)
    payments = tables.pop("payments")
    ids = sorted(tables["loans"].get_column("loan_id").to_list())
    days = [AS_OF - timedelta(days=d) for d in (6, 3, 0)]
    given = [
        [(loan, "extension", days[0] - timedelta(days=20), 30) for loan in ids],
        [],
        [(loan, "extension", days[1], 10) for loan in ids[::3]],
    ]
    books, incremental, whole = two_books(tmp_path, tables, payments, days[0])
    for k, day in enumerate(days):
        if k:
            arrive(books, payments, days[k - 1], day, f"day-{k}")
        revisions = pl.DataFrame(given[k], schema=EXTENSIONS, orient="row")
        for folder in books:
            if k == 1:  # withdrawn: the input gone (the third night gives one again)
                (folder / "revisions.parquet").unlink()
            else:
                revisions.write_parquet(folder / "revisions.parquet")
        ctx = PLAIN.run_context(day)
        assert run_day(incremental, ctx, AT) == run_day(whole, ctx, AT)
        same_tables(incremental, whole, day)
        agree_with_the_domain(incremental, book_of, revisions, day)
        agree_with_the_domain(whole, book_of, revisions, day)
    assert incremental.table(days[1], "replayed").get_column("loan_id").to_list() == ids
    assert [r.kind for r in incremental.folder.runs()] == ["base", "delta", "delta"]


def test_settlements_night_after_night_agree_with_the_whole_book_and_the_domain(
    tmp_path: Path,
) -> None:
    # A third of the loans settle for 100.00 from 20 days before AS_OF to 10 days before:
    # paid on the deadline in two parts (settled), a day late (lapsed), in part (lapsed),
    # more than asked (settled; the excess and later money credit), by turns. The
    # revisions input is there from the first night, ahead of their day.
    tables = synthetic_frames(30, AS_OF, seed=5, history_days=150)
    ids = sorted(tables["loans"].get_column("loan_id").to_list())
    on, by = AS_OF - timedelta(days=20), AS_OF - timedelta(days=10)
    deals, paid = [], []
    for n, loan in enumerate(ids[::3]):
        deals.append((loan, SETTLEMENT, on, None, 10_000, by, None))
        mode = n % 4
        if mode == 0:
            paid += [(f"S{n}a", loan, 4_000, on), (f"S{n}b", loan, 6_000, by)]
        elif mode == 1:
            paid.append((f"S{n}", loan, 10_000, by + timedelta(days=1)))
        elif mode == 2:
            paid.append((f"S{n}", loan, 9_999, on + timedelta(days=3)))
        else:
            paid += [(f"S{n}a", loan, 15_000, by), (f"S{n}b", loan, 700, AS_OF - timedelta(days=2))]
    extra = pl.DataFrame(paid, schema=["payment_id", "loan_id", "amount", "paid_on"],
                         orient="row")  # fmt: skip
    payments = pl.concat([tables["payments"], extra.cast(tables["payments"].select(
        extra.columns).schema)], how="diagonal")  # fmt: skip
    tables["payments"] = payments
    book_of = domain_book(tables)
    tables.pop("payments")
    revisions = pl.DataFrame(deals, schema=REVISION_SCHEMA, orient="row")
    days = [AS_OF - timedelta(days=d) for d in (25, 15, 9, 0)]
    incremental = nights_agree(tmp_path, tables, payments, revisions, days, book_of)
    states = {
        r["loan_id"]: r for r in incremental.table(AS_OF, "loan_states").iter_rows(named=True)
    }
    settled = [loan for n, loan in enumerate(ids[::3]) if n % 4 in (0, 3)]
    assert {states[loan]["stage"] for loan in settled} == {"settled"}
    assert all(states[loan]["dpd"] == 0 for loan in settled)


@pytest.mark.parametrize(
    ("row", "refusal"),
    [
        (("extension", AS_OF, 10, 500, None, None), "an extension with an amount or deadline"),
        (("extension", AS_OF, None, None, None, None), "an extension's days missing"),
        (("settlement", AS_OF, None, 500, None, None), "a settlement without a deadline"),
        (("settlement", AS_OF, None, None, AS_OF, None), "a settlement's amount missing"),
        (("settlement", AS_OF, 3, 500, AS_OF, None), "a settlement with days"),
        (("settlement", AS_OF, None, 500, AS_OF - timedelta(days=1), None),
         "a settlement's deadline before its effective_on"),
        (("plan", AS_OF, None, None, None, None), "a plan's months missing"),
        (("plan", AS_OF, None, None, None, 1), "a plan's months missing or outside 2..36"),
        (("plan", AS_OF, None, None, None, 37), "a plan's months missing or outside 2..36"),
        (("plan", AS_OF, 10, None, None, 6), "a plan with days, an amount or a deadline"),
        (("plan", AS_OF, None, 500, AS_OF, 6), "a plan with days, an amount or a deadline"),
        (("extension", AS_OF, 10, None, None, 6), "an extension or settlement with months"),
    ],
)  # fmt: skip
def test_a_revision_with_another_kinds_terms_or_without_its_own_is_refused(
    tmp_path: Path, row: tuple[object, ...], refusal: str
) -> None:
    tables = synthetic_frames(5, AS_OF, seed=2, history_days=60)
    folder = write_book(tables, tmp_path / "book")
    loan = tables["loans"].get_column("loan_id")[0]
    pl.DataFrame([(loan, *row)], schema=REVISION_SCHEMA, orient="row").write_parquet(
        folder / "revisions.parquet"
    )
    with pytest.raises(BookFolderError, match=f"{refusal}.*{loan}"):
        run_day(ParquetEngineStore(folder), PLAIN.run_context(AS_OF), AT)


def test_plans_night_after_night_agree_with_the_whole_book_and_the_domain(
    tmp_path: Path,
) -> None:
    # Half the loans on a plan of 2 to 4 months from 40 days before AS_OF, a third of those
    # extended 10 days after; another plan on a few loans 12 days before AS_OF. Some
    # nights are before the plans' day, some after, one after the first parts fall due:
    # night by night, working every loan, and in the domain alike.
    tables = synthetic_frames(30, AS_OF, seed=7, history_days=150)
    ids = sorted(tables["loans"].get_column("loan_id").to_list())
    on = AS_OF - timedelta(days=40)
    deals: list[tuple[object, ...]] = [
        (loan, "plan", on, None, None, None, 2 + n % 3) for n, loan in enumerate(ids[::2])
    ]
    deals += [(loan, "extension", on + timedelta(days=5), 10, None, None, None)
              for loan in ids[::6]]  # fmt: skip
    deals += [(loan, "plan", AS_OF - timedelta(days=12), None, None, None, 3)
              for loan in ids[1::5]]  # fmt: skip
    payments = tables["payments"]
    book_of = domain_book(tables)
    tables.pop("payments")
    revisions = pl.DataFrame(deals, schema=REVISION_SCHEMA, orient="row")
    days = [AS_OF - timedelta(days=d) for d in (45, 30, 11, 0)]
    incremental = nights_agree(tmp_path, tables, payments, revisions, days, book_of)
    # The parts are the loans' lines (seq below 0), their re-split in the allocations.
    parts = incremental.table(AS_OF, "instalment_states").filter(pl.col("seq") < 0)
    assert set(parts.get_column("loan_id").to_list()) == set(ids[::2]) | set(ids[1::5])
    moved = incremental.table(AS_OF, "allocations").filter(pl.col("payment_id") == "plan")
    assert moved.height > 0

"""A Parquet book's inputs are checked as the feed import checks a feed: a bad row is refused
by name before anything is written, never read as something else."""

import os
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.adapters.book_folder import BookFolderError
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.pipeline import run_pipeline
from arrears.batch.run import run_day, summarise
from arrears.bootstrap import App
from arrears.domain.errors import DomainError

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)
TABLES = synthetic_frames(30, AS_OF, seed=5, history_days=120)
Tables = dict[str, pl.DataFrame]


def run(store: ParquetEngineStore, day: date = AS_OF) -> None:
    run_day(store, App("sqlite://", load_settings(None)).run_context(day), AT)


def first(name: str, column: str) -> object:
    """The first row's value of a column of an input."""
    return TABLES[name].item(0, column)


def again(name: str, **changes: object) -> Callable[[Tables], Tables]:
    """The tables with the first row of an input added again (with `changes`)."""

    def change(tables: Tables) -> Tables:
        row = (
            tables[name]
            .head(1)
            .with_columns(pl.lit(v, tables[name].schema[k]).alias(k) for k, v in changes.items())
        )
        return {**tables, name: pl.concat([tables[name], row])}

    return change


def first_set(name: str, column: str, value: object) -> Callable[[Tables], Tables]:
    """The tables with one cell of an input's first row set."""

    def change(tables: Tables) -> Tables:
        frame = tables[name]
        cell = pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(value, frame.schema[column]))
        return {**tables, name: frame.with_columns(cell.otherwise(pl.col(column)).alias(column))}

    return change


def dropped(name: str, keep: pl.Expr) -> Callable[[Tables], Tables]:
    """The tables with an input's rows filtered."""
    return lambda tables: {**tables, name: tables[name].filter(keep)}


def in_yuan(change: Callable[[Tables], Tables]) -> Callable[[Tables], Tables]:
    """`change` of the tables with every loan lent in yuan (the optional `currency`)."""
    return lambda tables: change(
        {**tables, "loans": tables["loans"].with_columns(currency=pl.lit("CNY"))}
    )


LOAN, BORROWER = first("loans", "loan_id"), first("loans", "borrower_id")
SEQ = first("installments", "seq")
CASES = [
    (again("loans"), f"input loans: given twice: {LOAN}, {LOAN}"),
    (again("installments"), f"input installments: given twice: {LOAN} {SEQ}, {LOAN} {SEQ}"),
    (again("borrowers", phone="+8613800000000"), "input borrowers: given twice"),
    (first_set("loans", "principal", 0), f"a principal not above zero: {LOAN}"),
    (first_set("installments", "interest_due", -1), "a negative interest_due"),
    # The largest amount a feed takes (money.LARGEST_AMOUNT): a book's Int64 fen took up to
    # 2^63 - 1, and two such lines of a loan wrapped its overdue interest negative.
    (first_set("installments", "interest_due", 4 * 10**18),
     f"input installments: interest_due above 9999999999999.99 (999999999999999 fen, the "
     f"largest amount a feed takes): {LOAN} {SEQ}"),
    (first_set("installments", "fee_due", 10**15), "fee_due above 9999999999999.99"),
    (first_set("loans", "principal", 10**15),
     f"input loans: principal above 9999999999999.99 (999999999999999 fen, the largest "
     f"amount a feed takes): {LOAN}"),
    (first_set("payments", "amount", 10**15),
     f"input payments: amount above 9999999999999.99 (999999999999999 fen, the largest "
     f"amount a feed takes): {first('payments', 'payment_id')}"),
    (lambda tables: {**tables, "promises": pl.DataFrame(
        [("P1", LOAN, 10**15, AS_OF - timedelta(days=5), AS_OF)],
        schema=tables["promises"].schema, orient="row")},
     "input promises: amount above 9999999999999.99 (999999999999999 fen, the largest "
     "amount a feed takes): P1"),
    (first_set("installments", "seq", 0), "a seq below 1"),
    (first_set("borrowers", "phone", "12345"), "a phone not in E.164"),
    (first_set("loans", "borrower_id", "NOBODY"), f"a borrower not in borrowers: {LOAN}"),
    (again("installments", loan_id="NO-LOAN"), "input installments: a loan not in loans: NO-LOAN"),
    (first_set("installments", "due_date", date(2000, 1, 1)),
     "a due date not after the loan's contract date"),
    (dropped("installments", pl.col("loan_id") != pl.lit(LOAN)),
     f"input loans: no instalments: {LOAN}"),
    (first_set("payments", "paid_on", date(2000, 1, 1)), "paid before the loan's contract date"),
    # The feed's years (helper-59: a contract of 1800 gave the cap 225 years of allowance).
    (first_set("loans", "contract_date", date(1800, 1, 1)),
     f"input loans: a contract_date outside the years 1900-2199: {LOAN}"),
    (first_set("installments", "due_date", date(9999, 1, 1)),
     f"input installments: a due_date outside the years 1900-2199: {LOAN} {SEQ}"),
    (first_set("payments", "paid_on", date(2300, 1, 1)), "a paid_on outside the years 1900-2199"),
    (first_set("payments", "payment_id", ""), "input payments: no payment_id"),
    # The cap's allowance runs on the principal the instalments leave outstanding.
    (first_set("installments", "principal_due", 10**12),
     f"input loans: instalments scheduling more principal than the loan lent: {LOAN}"),
    # A schedule not in loan order is summed by hashing, and joined to the loans.
    (lambda tables: first_set("installments", "principal_due", 10**12)(
        {**tables, "installments": tables["installments"].reverse()}),
     "input loans: instalments scheduling more principal than the loan lent"),
    (again("payments", amount=1), "a payment id comes with different loans, amounts or days"),
    # A book names its loans' currencies or none: one without beside others would be added up
    # in no currency.
    (in_yuan(first_set("loans", "currency", None)),
     f"input loans: no currency, where the book's other loans name theirs: {LOAN}"),
    (in_yuan(first_set("loans", "currency", "cny")),
     f"input loans: a currency not an ISO 4217 code (three capital letters, e.g. CNY): {LOAN}"),
    # Charged in hundredths, a yen or a Kuwaiti dinar loan would be charged in units it lacks.
    (in_yuan(first_set("loans", "currency", "JPY")),
     f"input loans: currency JPY has 0 decimal places in ISO 4217, but amounts are kept to two "
     f"decimals: only a currency of two decimals (CNY, USD, GBP, …) can be lent: {LOAN}"),
    (first_set("loans", "principal", None), "loans.parquet: column 'principal' is empty in row 1"),
    (first_set("installments", "due_date", None), "column 'due_date' is empty in row 1"),
    (first_set("borrowers", "phone", None), "column 'phone' is empty in row 1"),
    (first_set("borrowers", "timezone", "Mars/Olympus"),
     f"input borrowers: 'Mars/Olympus' is not an IANA time zone: {BORROWER}"),
    (first_set("loans", "product", "cn-nope"), f"unknown product 'cn-nope' (loans {LOAN})"),
    (first_set("loans", "annual_rate", "18%"),
     f"column 'annual_rate': '18%' is not a rate (a decimal fraction such as 0.18) (loans {LOAN})"),
    # A bad annual rate beside a penalty rate is the annual rate's fault.
    (lambda tables: first_set("loans", "penalty_rate", "0.24")(
        first_set("loans", "annual_rate", "abc")(tables)),
     f"column 'annual_rate': 'abc' is not a rate (a decimal fraction such as 0.18) (loans {LOAN})"),
    (first_set("loans", "penalty_rate", "-0.5"),
     f"column 'penalty_rate': rate '-0.5' is outside 0..10 (a decimal fraction: 0.18 = 18 %/yr) "
     f"(loans {LOAN})"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), CASES)
def test_a_bad_row_is_refused_by_name_before_anything_is_written(
    tmp_path: Path, change: Callable[[Tables], Tables], message: str
) -> None:
    store = ParquetEngineStore(write_book(change(dict(TABLES)), tmp_path / "book"))
    # A book's error (BookFolderError) or its terms' (DomainError): both exit 1, named.
    with pytest.raises(DomainError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(store)
    assert store.folder.runs() == []
    assert not list(store.folder.state.glob(".tmp-*"))


def test_a_payment_sent_twice_as_it_was_counts_once(tmp_path: Path) -> None:
    # As the feed import skips a payment already imported: the same payment, not more money.
    twice = ParquetEngineStore(write_book(again("payments")(dict(TABLES)), tmp_path / "twice"))
    once = ParquetEngineStore(write_book(TABLES, tmp_path / "once"))
    run(twice)
    run(once)
    # The balances too: they keep the count and sum of each loan's payments, by which a later
    # whole-book read tells a back-dated payment (counted twice, the loan would be rebuilt
    # on every such read).
    for name in ("loan_states", "allocations", "loan_balances"):
        assert_frame_equal(twice.table(AS_OF, name), once.table(AS_OF, name),
                           check_row_order=False)  # fmt: skip


def test_a_part_in_another_format_is_refused_not_skipped(tmp_path: Path) -> None:
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    single = store.folder.root / "payments.parquet"
    (store.folder.root / "payments").mkdir()
    single.rename(store.folder.root / "payments" / "history.parquet")
    TABLES["payments"].head(1).write_csv(store.folder.root / "payments" / "today.csv")
    with pytest.raises(BookFolderError, match=r"payments/today.csv is not a Parquet part"):
        run(store)
    assert store.folder.runs() == []


def test_a_misspelt_column_is_refused_not_left_unread(tmp_path: Path) -> None:
    # A loan's own penalty rate written `penalty_rte` would leave the product's rate charged,
    # and a hold's end written `end_on` the hold open for good (helper-88).
    loans = TABLES["loans"].rename({"penalty_rate": "penalty_rte"})
    store = ParquetEngineStore(write_book({**TABLES, "loans": loans}, tmp_path / "book"))
    unknown = r"input loans: loans.parquet: unknown column 'penalty_rte' \(the loans input's"
    with pytest.raises(BookFolderError, match=unknown):
        run(store)
    assert store.folder.runs() == []
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "held"))
    run(store, AS_OF - timedelta(days=1))
    holds = pl.DataFrame({"borrower_id": [first("loans", "borrower_id")], "kind": ["dispute"],
                          "starts_on": [AS_OF], "end_on": [AS_OF]})  # fmt: skip
    holds.write_parquet(store.folder.root / "holds.parquet")
    with pytest.raises(
        BookFolderError, match=r"input holds: holds.parquet: unknown column 'end_on'"
    ):
        run(store)
    assert [r.as_of for r in store.folder.runs()] == [AS_OF - timedelta(days=1)]


@pytest.mark.parametrize("stray", ["payment/today.parquet", "hold.parquet"])
def test_a_misnamed_input_is_refused_not_left_unread(tmp_path: Path, stray: str) -> None:
    # A day's payments in `payment/`, or the holds in `hold.parquet`, would never be read: the
    # loans charged as unpaid, the borrower in dispute called (helper-88).
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    path = store.folder.root / stray
    path.parent.mkdir(exist_ok=True)
    TABLES["payments"].head(1).write_parquet(path)
    with pytest.raises(BookFolderError, match=f"holds {stray.split('/')[0]}, which is no input"):
        run(store)
    assert store.folder.runs() == []


def test_other_files_beside_the_inputs_are_left_be(tmp_path: Path) -> None:
    # The lender's notes, its settings and hidden files are no input, nor taken for one.
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    (store.folder.root / "README.md").write_text("book of 2025-11", encoding="utf-8")
    (store.folder.root / "arrears.toml").write_text("", encoding="utf-8")
    TABLES["payments"].head(1).write_parquet(store.folder.root / "_held.parquet")
    (store.folder.root / "exports").mkdir()
    (store.folder.root / "exports" / "bucket.csv").write_text("a\n", encoding="utf-8")
    run(store)
    assert [r.as_of for r in store.folder.runs()] == [AS_OF]


def test_a_part_whose_name_is_not_utf8_is_refused_naming_it(tmp_path: Path) -> None:
    # Polars takes paths as UTF-8 text: a GBK name ended the run in a TypeError (helper-59).
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    single = store.folder.root / "payments.parquet"
    (store.folder.root / "payments").mkdir()
    gbk = Path(os.fsdecode(bytes(store.folder.root) + b"/payments/\xbb\xb9\xbf\xee.parquet"))
    single.rename(gbk)
    with pytest.raises(BookFolderError, match=r"input payments: the path of part b'.*\\xbb\\xb9"):
        run(store)
    assert store.folder.runs() == []


def test_a_corrupt_part_is_named(tmp_path: Path) -> None:
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    (store.folder.root / "loans.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(BookFolderError, match=r"input loans: loans.parquet: cannot read it"):
        run(store)


def parted(tmp_path: Path, name: str) -> ParquetEngineStore:
    """The book with its payments as a folder of parts (history.parquet), run to yesterday."""
    store = ParquetEngineStore(write_book(TABLES, tmp_path / name))
    (store.folder.root / "payments").mkdir()
    (store.folder.root / "payments.parquet").rename(
        store.folder.root / "payments" / "history.parquet"
    )
    run(store, AS_OF - timedelta(days=1))
    return store


def a_night(store: ParquetEngineStore, part: pl.DataFrame) -> None:
    """Tonight's payments part added and the night run its own way: reading the new part,
    not the whole book (which would check every payment)."""
    part.write_parquet(store.folder.root / "payments" / "tonight.parquet")

    def whole(*args: object) -> None:
        raise AssertionError("the night read the whole book")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "_load_whole", whole)
        run(store)


def test_a_night_takes_a_payment_sent_again_in_a_new_part_once(tmp_path: Path) -> None:
    store, clean = parted(tmp_path, "book"), parted(tmp_path, "clean")
    paid = TABLES["payments"]
    again = paid.head(3)  # their loans are rebuilt tonight (payments dated before the night)
    other = paid.filter(~pl.col("loan_id").is_in(again.get_column("loan_id").implode()))
    new = other.head(1).with_columns(pl.lit("NEW").alias("payment_id"),
                                     pl.lit(AS_OF).alias("paid_on"))  # fmt: skip
    a_night(store, pl.concat([again, new, new]))  # three sent again, one new twice
    a_night(clean, new)
    # The same payments, applied the night they were dated: no loan is rebuilt for them, and
    # the run reports what the clean one does.
    assert store.table(AS_OF, "replayed").height == 0
    for name in ("loan_states", "loan_balances"):
        assert_frame_equal(store.table(AS_OF, name), clean.table(AS_OF, name),
                           check_row_order=False)  # fmt: skip
    assert store.run_summary(AS_OF) == clean.run_summary(AS_OF)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (pl.lit("NO-SUCH-LOAN").alias("loan_id"), r"payments for loans not in the book: NEW"),
        (pl.lit(0, pl.Int64).alias("amount"), r"payments of no amount above zero \(in fen\): NEW"),
        (pl.lit(10**15, pl.Int64).alias("amount"), r"amount above 9999999999999.99 .*: NEW"),
        (pl.lit(date(2000, 1, 1)).alias("paid_on"), r"paid before the loan's contract date: NEW"),
        # The feed's years (helper-59: the book took what the feed refuses).
        (pl.lit(date(2300, 1, 1)).alias("paid_on"), r"a paid_on outside the years 1900-2199: NEW"),
        (pl.lit(" ").alias("payment_id"), r"input payments: no payment_id"),
    ],
)
def test_a_night_refuses_a_bad_payment_whatever_its_day(
    tmp_path: Path, change: pl.Expr, message: str
) -> None:
    # Dated ahead, it is refused tonight as a whole-book read would refuse it, not taken now
    # and refused (or its money dropped) on the night it falls due.
    store = parted(tmp_path, "book")
    ahead = (
        TABLES["payments"]
        .head(1)
        .with_columns(
            pl.lit("NEW").alias("payment_id"), pl.lit(AS_OF + timedelta(days=5)).alias("paid_on")
        )
    )
    with pytest.raises(BookFolderError, match=message):
        a_night(store, ahead.with_columns(change))
    assert [r.as_of for r in store.folder.runs()] == [AS_OF - timedelta(days=1)]


def test_a_number_too_large_for_its_column_is_refused_by_name(tmp_path: Path) -> None:
    store = parted(tmp_path, "book")
    huge = (
        TABLES["payments"]
        .head(1)
        .with_columns(
            pl.lit("NEW").alias("payment_id"), pl.lit(2**63 + 5, pl.UInt64).alias("amount")
        )
    )
    with pytest.raises(BookFolderError, match=r"tonight.parquet: column 'amount' holds numbers "
                       r"out of range for Int64 in row 1 \(9223372036854775813\)"):  # fmt: skip
        a_night(store, huge)


def test_a_night_refuses_one_payment_id_for_two_amounts(tmp_path: Path) -> None:
    store = parted(tmp_path, "book")
    new = TABLES["payments"].head(1).with_columns(pl.lit("NEW").alias("payment_id"),
                                                  pl.lit(AS_OF).alias("paid_on"))  # fmt: skip
    other = new.with_columns(pl.col("amount") + 1)
    with pytest.raises(BookFolderError, match="a payment id comes with different loans, amounts"):
        a_night(store, pl.concat([new, other]))
    assert [r.as_of for r in store.folder.runs()] == [AS_OF - timedelta(days=1)]


def reused(paid: pl.DataFrame, payment_id: object) -> pl.DataFrame:
    """A payment of today under an id given before, for a loan other than `paid`'s (a loan
    the night does not rebuild: tonight's payment is its only new one)."""
    other = TABLES["payments"].filter(pl.col("loan_id") != paid.item(0, "loan_id")).tail(1)
    return other.with_columns(
        pl.lit(payment_id).alias("payment_id"), pl.lit(AS_OF).alias("paid_on")
    )


def test_a_night_refuses_an_id_applied_on_an_earlier_night_for_another_loan(
    tmp_path: Path,
) -> None:
    # The night reads only the new part; a whole-book read would refuse the two versions, so
    # a night must too, not count the money it will later refuse.
    store = parted(tmp_path, "book")
    paid = TABLES["payments"].head(1)
    tonight = reused(paid, paid.item(0, "payment_id"))
    with pytest.raises(BookFolderError, match="a payment id comes with different loans") as error:
        a_night(store, tonight)
    for version in (paid, tonight):
        assert f"for loan {version.item(0, 'loan_id')}, {version.item(0, 'amount')} fen" in str(
            error.value
        )
    assert [r.as_of for r in store.folder.runs()] == [AS_OF - timedelta(days=1)]


@pytest.mark.parametrize("ahead_in", ["a part read before", "tonight's part"])
def test_a_night_refuses_an_id_whose_other_version_is_dated_later(
    tmp_path: Path, ahead_in: str
) -> None:
    # A payment written ahead of time is not yet applied, but its id is given: a whole-book
    # read refuses a second version of it whatever their days, so the night does too.
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    (store.folder.root / "payments").mkdir()
    (store.folder.root / "payments.parquet").rename(store.folder.root / "payments" / "a.parquet")
    ahead = reused(TABLES["payments"].head(1), "AHEAD").with_columns(
        pl.lit(AS_OF + timedelta(days=2)).alias("paid_on")
    )
    if ahead_in == "a part read before":
        ahead.write_parquet(store.folder.root / "payments" / "ahead.parquet")
    run(store, AS_OF - timedelta(days=1))
    today = (
        TABLES["payments"]
        .head(1)
        .with_columns(pl.lit("AHEAD").alias("payment_id"), pl.lit(AS_OF).alias("paid_on"))
    )
    tonight = today if ahead_in == "a part read before" else pl.concat([today, ahead])
    with pytest.raises(BookFolderError, match=r"different loans, amounts or days \(1 ids\): AHEAD"):
        a_night(store, tonight)
    assert [r.as_of for r in store.folder.runs()] == [AS_OF - timedelta(days=1)]


def test_a_night_refuses_an_id_written_ahead_and_applied_since(tmp_path: Path) -> None:
    # Written ahead of the first run, applied on a night that read no new part with it: the
    # first run kept its id all the same, so a later night given it again refuses it.
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    (store.folder.root / "payments").mkdir()
    (store.folder.root / "payments.parquet").rename(store.folder.root / "payments" / "a.parquet")
    ahead = (
        TABLES["payments"]
        .head(1)
        .with_columns(pl.lit("AHEAD").alias("payment_id"), pl.lit(AS_OF).alias("paid_on"))
    )
    ahead.write_parquet(store.folder.root / "payments" / "ahead.parquet")
    run(store, AS_OF - timedelta(days=1))
    later_night(store, AS_OF, TABLES["payments"].head(0), "quiet")  # AHEAD applied
    after = AS_OF + timedelta(days=1)
    again = reused(ahead, "AHEAD").with_columns(pl.lit(after).alias("paid_on"))
    with pytest.raises(BookFolderError, match=r"different loans, amounts or days \(1 ids\): AHEAD"):
        later_night(store, after, again, "again")
    assert store.folder.runs()[-1].as_of == AS_OF


def later_night(store: ParquetEngineStore, day: date, part: pl.DataFrame, name: str) -> None:
    """A night of `day` reading the new part `name`, not the whole book."""
    part.write_parquet(store.folder.root / "payments" / f"{name}.parquet")

    def whole(*args: object) -> None:
        raise AssertionError("the night read the whole book")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "_load_whole", whole)
        run(store, day)


@pytest.mark.parametrize("kept", ["delta", "base", "none"])
def test_a_night_refuses_an_id_a_night_before_applied(
    tmp_path: Path, kept: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "delta": the id is kept by last night's delta; "base": last night wrote a base (its
    # chain long enough); "none": the book's runs kept no ids (begun by an earlier release).
    if kept == "base":
        monkeypatch.setattr("arrears.adapters.parquet_store.CHAIN_LIMIT", 1)
    store = parted(tmp_path, "book")
    if kept == "none":
        for folder in store.folder.state.glob("run-*"):
            shutil.rmtree(folder / "paid_ids", ignore_errors=True)
    first = (
        TABLES["payments"]
        .head(1)
        .with_columns(pl.lit("NIGHT-1").alias("payment_id"), pl.lit(AS_OF).alias("paid_on"))
    )
    later_night(store, AS_OF, first, "night-1")
    # Last night kept its ids alone, or all of them (not to read every payment again).
    last = store.folder.state / store.folder.runs()[-1].folder
    assert (last / "paid_ids_new").is_dir() == (kept == "delta")
    assert (last / "paid_ids").is_dir() == (kept != "delta")
    after = AS_OF + timedelta(days=1)
    history = TABLES["payments"].head(1)
    again = pl.concat([reused(first, "NIGHT-1"), reused(history, history.item(0, "payment_id"))])
    again = again.with_columns(pl.lit(after).alias("paid_on"))
    with pytest.raises(BookFolderError, match=r"different loans, amounts or days \(2 ids\)"):
        later_night(store, after, again, "night-2")
    assert store.folder.runs()[-1].as_of == AS_OF
    # The same id sent again as it was counts once; a new id goes through.
    fresh = again.head(1).with_columns(pl.lit("NEW").alias("payment_id"))
    later_night(store, after, pl.concat([first, fresh]), "night-2")
    assert store.folder.runs()[-1].as_of == after


def test_a_damaged_run_record_is_named_not_a_traceback(tmp_path: Path) -> None:
    store = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    run(store, AS_OF - timedelta(days=1))
    (store.folder.state / "runs.json").write_text('{"runs": [', encoding="utf-8")
    with pytest.raises(BookFolderError, match=r"state/runs.json is damaged \(JSONDecodeError"):
        run(store)


def test_a_night_checks_the_borrowers_when_they_changed(tmp_path: Path) -> None:
    store = parted(tmp_path, "book")
    borrowers = TABLES["borrowers"]
    gone = borrowers.filter(pl.col("borrower_id") != BORROWER)  # a loan's borrower dropped
    gone.write_parquet(store.folder.root / "borrowers.parquet")
    with pytest.raises(BookFolderError, match=f"input loans: a borrower not in borrowers: {LOAN}"):
        a_night(store, TABLES["payments"].head(0))
    first_set("borrowers", "phone", "12345")(TABLES)["borrowers"].write_parquet(
        store.folder.root / "borrowers.parquet"
    )
    with pytest.raises(BookFolderError, match=r"input borrowers: a phone not in E\.164"):
        a_night(store, TABLES["payments"].head(0))
    assert [r.as_of for r in store.folder.runs()] == [AS_OF - timedelta(days=1)]
    borrowers.write_parquet(store.folder.root / "borrowers.parquet")  # mended: the night runs
    a_night(store, TABLES["payments"].head(0))
    assert store.folder.runs()[-1].as_of == AS_OF


def test_a_second_run_of_a_book_meanwhile_is_refused(tmp_path: Path) -> None:
    # Each run clears what a killed run left and what no record names: two at once would
    # clear each other's work. The second is refused, the first goes on as if alone.
    first = ParquetEngineStore(write_book(TABLES, tmp_path / "book"))
    second = ParquetEngineStore(first.folder.root)
    ctx = App("sqlite://", load_settings(None)).run_context(AS_OF)
    frames = first.load(ctx)
    with pytest.raises(BookFolderError, match=r"another run of the book .* is in progress"):
        run(second)
    frames = run_pipeline(frames, ctx)
    first.save(frames, AS_OF, summarise(frames, AS_OF, None), AT)
    run(second)  # the book is free again: the same day re-run, unchanged
    assert [r.as_of for r in first.folder.runs()] == [AS_OF]
    clean = ParquetEngineStore(write_book(TABLES, tmp_path / "clean"))
    run(clean)
    assert_frame_equal(second.table(AS_OF, "loan_states"), clean.table(AS_OF, "loan_states"),
                       check_row_order=False)  # fmt: skip


def test_a_failed_load_lets_the_book_go(tmp_path: Path) -> None:
    store = ParquetEngineStore(write_book(again("loans")(dict(TABLES)), tmp_path / "book"))
    with pytest.raises(BookFolderError, match="given twice"):
        run(store)
    write_book(TABLES, store.folder.root)  # mended
    run(ParquetEngineStore(store.folder.root))
    assert [r.as_of for r in store.folder.runs()] == [AS_OF]

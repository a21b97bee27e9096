"""Spark (local mode) and the local engine write the same run, row for row, day after day."""

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from arrears.adapters import parquet_store
from arrears.adapters.book_folder import BookFolderError
from arrears.adapters.book_tables import INPUTS, ORDER, OUTPUTS
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.spark_engine import (
    INTERPRETED,
    SparkEngine,
    handed_over,
    refusal_in,
    spark_session,
)
from arrears.adapters.state_damage import StateDamaged, damage
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.pipeline import RunContext
from arrears.batch.revisions import REVISION_SCHEMA
from arrears.batch.run import RunRefused, run_day
from arrears.bootstrap import App
from arrears.domain.errors import CalendarNotPublished, DomainError
from arrears.domain.money import parse_amount
from tests.adapters.test_parquet_nights import judged_as_the_domain_judges
from tests.adapters.test_parquet_pauses import Night, holds_of
from tests.adapters.test_parquet_pauses import context as pausing
from tests.adapters.test_parquet_store import NOTICE_DAY, called_thrice, send_the_notice
from tests.batch.huge_book import AS_OF as HUGE_AS_OF
from tests.batch.huge_book import assert_exact_totals, huge_book

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def spark() -> Iterator["SparkSession"]:
    """One local Spark for the whole test session (it takes seconds to start), its queries
    interpreted: the books here are tiny (spark_engine.INTERPRETED)."""
    session = spark_session("local[2]", shuffle_partitions=2, interpreted=True)
    yield session
    session.stop()


@pytest.fixture
def compiled(spark: "SparkSession") -> Iterator["SparkSession"]:
    """The session with its queries compiled, as a run on a real book has them."""
    # (spark_session's `interpreted` set them all.)
    assert {key: spark.conf.get(key) for key in INTERPRETED} == INTERPRETED
    try:
        for key in INTERPRETED:
            spark.conf.unset(key)
        yield spark
    finally:
        for key, value in INTERPRETED.items():
            spark.conf.set(key, value)


def same_outputs(mine: ParquetEngineStore, theirs: ParquetEngineStore, day: date) -> None:
    """Every table the run of `day` wrote is the same in both books, row for row."""
    ours, other = mine.tables(day, list(OUTPUTS)), theirs.tables(day, list(OUTPUTS))
    for name in OUTPUTS:
        assert_frame_equal(ours[name].sort(ORDER[name]), other[name].sort(ORDER[name]))


def _same_nights(
    spark: "SparkSession",
    tables: dict[str, pl.DataFrame],
    tmp_path: Path,
    buckets: int,
    second: dict[str, pl.DataFrame] | None = None,
    context: Callable[[date], RunContext] | None = None,
) -> tuple[ParquetEngineStore, list[date]]:
    """Two nights of the book on each engine, the same summary and tables each night: the
    first runs every loan from its contract, the second goes on from stored state (with the
    inputs `second` given anew before it; `context`: each night's, else the shipped
    settings'). The local engine's store and the nights."""
    local = ParquetEngineStore(write_book(tables, tmp_path / "local"))
    on_spark = SparkEngine(spark, write_book(tables, tmp_path / "spark"), buckets=buckets)
    written = ParquetEngineStore(tmp_path / "spark")
    app = App("sqlite://", load_settings(None))
    days = [AS_OF - timedelta(days=1), AS_OF]
    for day in days:
        if day == days[1]:
            for name, frame in (second or {}).items():
                for book in ("local", "spark"):
                    frame.write_parquet(tmp_path / book / f"{name}.parquet")
        ctx = app.run_context(day) if context is None else context(day)
        with patch.object(on_spark, "_read_input", wraps=on_spark._read_input) as reads:
            assert run_day(local, ctx, AT) == on_spark.run_day(ctx, AT)
        # Each input the book holds read once a night.
        held = sorted(name for name in INPUTS if on_spark.folder.has_input(name))
        assert sorted(call.args[0] for call in reads.call_args_list) == held
        same_outputs(local, written, day)
    return local, days


def test_spark_and_local_engines_write_the_same_tables(
    compiled: "SparkSession", tmp_path: Path
) -> None:
    # 60 loans signed over five months, some never paid: stages up to "late", blocked actions.
    # Compiled, as Spark runs a real book: the other tests run interpreted (quicker on books
    # this small), which Spark's own tests hold to the same results.
    assert compiled.conf.get("spark.sql.codegen.wholeStage") == "true"
    assert compiled.conf.get("spark.sql.codegen.factoryMode") == "FALLBACK"
    tables = synthetic_frames(60, AS_OF, seed=4, history_days=150)
    # A fifth of the loans lent more than their instalments schedule (it stays outstanding).
    more = pl.when(pl.int_range(pl.len()) % 5 == 0).then(300_000).otherwise(0)
    # Every fourth loan lent in dollars, the others in yuan (the loans' optional `currency`):
    # the buckets' postings are added up by currency as the local engine adds them.
    dollars = pl.when(pl.int_range(pl.len()) % 4 == 0).then(pl.lit("USD")).otherwise(pl.lit("CNY"))
    tables["loans"] = tables["loans"].with_columns(pl.col("principal") + more,
                                                   dollars.alias("currency"))  # fmt: skip
    # Every seventh loan referred to legal: the shipped ladder's legal stage takes it.
    referred = tables["loans"].select("loan_id").gather_every(7).with_columns(flag=pl.lit("legal"))
    tables["flags"] = referred
    # A loan withdrawn from the book before the second night, with its payments: dropped on
    # both engines, not listed as replayed by one (found by helper-42).
    paid = tables["payments"].get_column("loan_id").unique().sort()
    gone = next(loan for loan in paid if loan not in referred.get_column("loan_id"))
    second = {name: tables[name].filter(pl.col("loan_id") != gone)
              for name in ("loans", "installments", "payments")}  # fmt: skip
    local, days = _same_nights(compiled, tables, tmp_path, buckets=3, second=second)
    for run in local.folder.runs():  # (and Spark's, the same: _same_nights)
        sums = run.summary["by_currency"]
        assert list(sums) == ["CNY", "USD"]
        assert sum(parse_amount(s["penalty_posted"]) for s in sums.values()) == parse_amount(
            run.summary["penalty_posted"]
        )
        assert all(s["penalty_posted"] != "0.00" for s in sums.values()), sums
    assert local.table(days[1], "replayed").height == 0
    assert gone not in local.table(days[1], "loan_states").get_column("loan_id")
    assert all(local.table(day, "plan").height > 0 for day in days)
    assert sum(local.table(day, "blocked").height for day in days) > 0
    stages = local.table(days[-1], "cases").join(referred, on="loan_id").get_column("stage")
    assert stages.len() == referred.height
    assert set(stages) == {"legal"}, stages.value_counts()  # (none of them is paid off)


def test_holds_that_pause_clocks_run_on_spark_as_locally(
    spark: "SparkSession", tmp_path: Path
) -> None:
    # Products that stop their clocks for disputes and hardship (tests/adapters/
    # test_parquet_pauses.py); disputes placed back-dated on the first night, changed and
    # lifted before the second: both engines rebuild the same loans and agree.
    tables = synthetic_frames(40, AS_OF, seed=9, history_days=150)
    borrowers = sorted(tables["loans"].get_column("borrower_id").unique().to_list())
    first: Night = [(n, "dispute", 25, None) for n in range(0, 40, 3)]
    first += [(n, "hardship", 10, 20) for n in range(1, 40, 3)]
    tables["holds"] = holds_of(borrowers, first, AS_OF - timedelta(days=1))
    changed: Night = [(n, "dispute", 26, 20) for n in range(0, 40, 3)]
    second = {"holds": holds_of(borrowers, changed, AS_OF)}
    local, days = _same_nights(spark, tables, tmp_path, 3, second, pausing)
    assert local.table(days[1], "replayed").height > 0
    assert local.table(days[1], "pauses").height > 0


# An input of extensions as written before settlements were taken: no amount or deadline.
EXTENSIONS = {"loan_id": pl.String, "kind": pl.String, "effective_on": pl.Date, "days": pl.Int64}


def test_approved_extensions_run_on_spark_as_locally(spark: "SparkSession", tmp_path: Path) -> None:
    # Extensions on a third of the loans, some more approved before the second night and
    # half the first withdrawn: both engines work them from their contract date each night
    # (the withdrawn ones too: their state kept the dates they moved) and agree.
    tables = synthetic_frames(40, AS_OF, seed=12, history_days=150)
    ids = tables["loans"].get_column("loan_id").sort()
    first = [(loan, "extension", AS_OF - timedelta(days=20), 30) for loan in ids[::3]]
    tables["revisions"] = pl.DataFrame(first, schema=EXTENSIONS, orient="row")
    more = first[::2] + [(loan, "extension", AS_OF, 15) for loan in ids[1::4]]
    second = {"revisions": pl.DataFrame(more, schema=EXTENSIONS, orient="row")}
    local, days = _same_nights(spark, tables, tmp_path, 3, second)
    replayed = set(local.table(days[1], "replayed").get_column("loan_id").to_list())
    assert {loan for loan, *_ in first + more} <= replayed


def test_approved_settlements_run_on_spark_as_locally(
    spark: "SparkSession", tmp_path: Path
) -> None:
    # Settlements of 50.00 on a third of the loans, from before the first night to the
    # second's day, some paid in time (settled), some a day late (lapsed); an extension on
    # others: both engines work them from their contract date each night and agree.
    tables = synthetic_frames(40, AS_OF, seed=13, history_days=150)
    ids = tables["loans"].get_column("loan_id").sort()
    on, by = AS_OF - timedelta(days=10), AS_OF - timedelta(days=1)
    deals: list[tuple[object, ...]] = [(loan, "settlement", on, None, 5_000, by, None)
                                       for loan in ids[::3]]  # fmt: skip
    deals += [(loan, "extension", on, 20, None, None, None) for loan in ids[1::3]]
    tables["revisions"] = pl.DataFrame(deals, schema=REVISION_SCHEMA, orient="row")
    paid = [(f"S{n}", loan, 5_000, by + timedelta(days=n % 2))
            for n, loan in enumerate(ids[::3])]  # fmt: skip
    extra = pl.DataFrame(paid, schema=["payment_id", "loan_id", "amount", "paid_on"],
                         orient="row")  # fmt: skip
    tables["payments"] = pl.concat(
        [tables["payments"], extra.cast(tables["payments"].select(extra.columns).schema)],
        how="diagonal",
    )
    local, days = _same_nights(spark, tables, tmp_path, 3)
    states = local.table(days[-1], "loan_states")
    assert states.filter(pl.col("stage") == "settled").height > 0


def test_approved_plans_run_on_spark_as_locally(spark: "SparkSession", tmp_path: Path) -> None:
    # Plans of 2 to 4 months on half the loans from 30 days before AS_OF, an extension
    # after on some, more plans approved before the second night: both engines work them
    # from their contract date each night and agree.
    tables = synthetic_frames(40, AS_OF, seed=14, history_days=150)
    ids = tables["loans"].get_column("loan_id").sort()
    on = AS_OF - timedelta(days=30)
    deals: list[tuple[object, ...]] = [(loan, "plan", on, None, None, None, 2 + n % 3)
                                       for n, loan in enumerate(ids[::2])]  # fmt: skip
    deals += [(loan, "extension", on + timedelta(days=4), 10, None, None, None)
              for loan in ids[::6]]  # fmt: skip
    tables["revisions"] = pl.DataFrame(deals, schema=REVISION_SCHEMA, orient="row")
    more = deals + [(loan, "plan", AS_OF, None, None, None, 3) for loan in ids[1::4]]
    second = {"revisions": pl.DataFrame(more, schema=REVISION_SCHEMA, orient="row")}
    local, days = _same_nights(spark, tables, tmp_path, 3, second)
    parts = local.table(days[-1], "instalment_states").filter(pl.col("seq") < 0)
    planned = set(ids[::2].to_list()) | set(ids[1::4].to_list())
    assert set(parts.get_column("loan_id").to_list()) == planned


def _sharing(tables: dict[str, pl.DataFrame], size: int) -> dict[str, pl.DataFrame]:
    """The book with its borrowers in groups of `size` sharing one number (their calls too),
    and each number dialled six times on each of the two days by the last borrower, of a
    number of their own (as a registered contact's, say): the dial cap is reached."""
    borrowers = tables["borrowers"].with_row_index("n")
    first = pl.col("phone").gather((pl.col("n") // size) * size)
    shared = borrowers.select("borrower_id", first.alias("shared"))
    numbers = dict(zip(borrowers["phone"], shared["shared"], strict=True))
    attempts = tables["contact_attempts"].with_columns(pl.col("to_phone").replace(numbers))
    caller = borrowers["borrower_id"][-1]
    dialled = [
        (caller, None, "call", number, datetime.combine(day, time(1, k), UTC), "no_answer")
        for number in sorted(set(shared["shared"][: -1]))
        for day in (AS_OF - timedelta(days=1), AS_OF)
        for k in range(6)
    ]  # fmt: skip
    phones = shared["shared"].scatter(borrowers.height - 1, "+8613900000001")
    return {**tables, "borrowers": borrowers.drop("n").with_columns(phones.alias("phone")),
            "contact_attempts": pl.concat([attempts, pl.DataFrame(
                dialled, schema=attempts.schema, orient="row")])}  # fmt: skip


def test_borrowers_who_share_a_number_are_planned_on_spark_as_locally(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """Ten borrowers to a number, called by another borrower too: its dial cap counts every
    call to it, in one bucket on Spark (hashed by number, the other's calls copied there) as
    in the local engine's whole book."""
    tables = _sharing(synthetic_frames(120, AS_OF, seed=5, history_days=150), 10)
    local, days = _same_nights(spark, tables, tmp_path, buckets=4)
    rules = pl.concat([local.table(day, "blocked") for day in days]).get_column("rule")
    capped = int((rules == "cn.dial_attempts_per_number_per_day").sum())
    assert capped > 0  # the cap bound: the numbers' calls were counted together


def test_calls_to_shared_numbers_written_nationally_are_counted_there_on_spark_too(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """The other borrower's six calls to each shared number written without +86: read in the
    country of the caller's own number, they go to the number's bucket and are counted there,
    and both engines refuse what they refuse with the numbers written in E.164."""
    tables = _sharing(synthetic_frames(120, AS_OF, seed=5, history_days=150), 10)
    caller = tables["borrowers"].get_column("borrower_id")[-1]
    theirs = pl.col("borrower_id") == caller
    national = tables["contact_attempts"].with_columns(
        pl.when(theirs).then(pl.col("to_phone").str.strip_prefix("+86"))
        .otherwise(pl.col("to_phone")).alias("to_phone")
    )  # fmt: skip
    assert not national.filter(theirs).get_column("to_phone").str.starts_with("+").any()
    local, days = _same_nights(spark, {**tables, "contact_attempts": national}, tmp_path, buckets=4)
    written = ParquetEngineStore(write_book(tables, tmp_path / "e164"))
    app = App("sqlite://", load_settings(None))
    for day in days:
        run_day(written, app.run_context(day), AT)
        assert_frame_equal(local.table(day, "blocked"), written.table(day, "blocked"))
    rules = pl.concat([local.table(day, "blocked") for day in days]).get_column("rule")
    assert int((rules == "cn.dial_attempts_per_number_per_day").sum()) > 0


def test_calls_on_record_without_their_number_count_for_the_others_of_it_on_spark_too(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """Borrowers ten to a number; the first of each ten called six times a day on record
    without the number (to_phone is optional): the calls rang their own number, so the dial
    cap counts them for the other nine, on both engines, as with the number written."""
    tables = synthetic_frames(120, AS_OF, seed=5, history_days=150)
    borrowers = tables["borrowers"].with_row_index("n")
    first = pl.col("phone").gather((pl.col("n") // 10) * 10)
    shared = borrowers.with_columns(first.alias("phone"))
    heads = shared.filter(pl.col("n") % 10 == 0).select("borrower_id", "phone").rows()
    dialled = [
        (borrower, None, "call", None, datetime.combine(day, time(1, k), UTC), "no_answer")
        for borrower, _ in heads for day in (AS_OF - timedelta(days=1), AS_OF) for k in range(6)
    ]  # fmt: skip
    attempts = tables["contact_attempts"]
    blank = pl.concat([attempts, pl.DataFrame(dialled, schema=attempts.schema, orient="row")])
    book = {**tables, "borrowers": shared.drop("n"), "contact_attempts": blank}
    local, days = _same_nights(spark, book, tmp_path, buckets=4)
    numbers = dict(heads)
    written = blank.with_columns(
        pl.coalesce("to_phone", pl.col("borrower_id").replace_strict(numbers, default=None))
    )  # the same calls, their number written
    e164 = ParquetEngineStore(write_book({**book, "contact_attempts": written}, tmp_path / "e164"))
    app = App("sqlite://", load_settings(None))
    for day in days:
        run_day(e164, app.run_context(day), AT)
        assert_frame_equal(local.table(day, "blocked"), e164.table(day, "blocked"))
    rules = pl.concat([local.table(day, "blocked") for day in days]).get_column("rule")
    assert int((rules == "cn.dial_attempts_per_number_per_day").sum()) > 0


def test_the_engines_can_take_turns_on_one_book(spark: "SparkSession", tmp_path: Path) -> None:
    """Local, then Spark from the local engine's base state, Spark again from its own full
    state, then local again: every table and summary as if the local engine had run every
    night. Before each turn but the first, loans are corrected (due dates moved, a penalty
    rate, a principal): each engine runs them again from their contract date, whichever
    engine ran the night before (what that run was given of each loan is handed over; its
    penalty rate too while the rules are the same, found by helper-42: a Spark run recorded
    no rules, so the rate was never compared after one)."""
    tables = synthetic_frames(60, AS_OF, seed=9, history_days=150)
    turns = write_book(tables, tmp_path / "turns")
    local_only = ParquetEngineStore(write_book(tables, tmp_path / "local"))
    mixed = ParquetEngineStore(turns)
    app = App("sqlite://", load_settings(None))
    days = [AS_OF - timedelta(days=n) for n in (3, 2, 1, 0)]
    ids = tables["loans"].get_column("loan_id")

    def moved(schedule: pl.DataFrame, *loans: int) -> pl.DataFrame:
        first = pl.col("loan_id").is_in([ids[n] for n in loans]) & (pl.col("seq") == 1)
        later = pl.when(first).then(pl.col("due_date") + timedelta(days=9))
        return schedule.with_columns(later.otherwise(pl.col("due_date")).alias("due_date"))

    def loans(penalised: list[int], more: list[int]) -> pl.DataFrame:
        names = pl.col("loan_id")
        return tables["loans"].with_columns(
            pl.when(names.is_in([ids[n] for n in penalised])).then(pl.lit("0.9"))
            .otherwise(pl.col("penalty_rate")).alias("penalty_rate"),
            pl.when(names.is_in([ids[n] for n in more])).then(pl.col("principal") + 50_000)
            .otherwise(pl.col("principal")).alias("principal"),
        )  # fmt: skip

    corrected = {
        days[1]: {"installments": moved(tables["installments"], 0)},
        days[2]: {"installments": moved(tables["installments"], 0, 1), "loans": loans([3], [])},
        days[3]: {"loans": loans([3, 4], [2])},
    }
    for day, engine in zip(days, ("local", "spark", "spark", "local"), strict=True):
        ctx = app.run_context(day)
        for name, frame in corrected.get(day, {}).items():
            for book in (turns, local_only.folder.root):
                frame.write_parquet(book / f"{name}.parquet")
        if engine == "spark":
            summary = SparkEngine(spark, turns, buckets=3).run_day(ctx, AT)
        else:
            summary = run_day(mixed, ctx, AT)
        assert summary == run_day(local_only, ctx, AT), (day, engine)
        same_outputs(mixed, local_only, day)
    assert [r.kind for r in mixed.folder.runs()] == ["base", "full", "full", "base"]
    replayed = [mixed.table(day, "replayed").get_column("loan_id").to_list() for day in days]
    assert replayed == [[], [ids[0]], [ids[1], ids[3]], [ids[2], ids[4]]]


def test_a_products_changed_penalty_replays_its_loans_on_spark_as_locally(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """After the local engine's nights, Spark runs under changed rules: first a product no
    loan has (nothing is priced otherwise: nothing is replayed; found by helper-40: the
    bucket's copy of what the last run was given came with an empty penalty rate, which
    read as every loan corrected), then every product's penalty doubled (the loans priced
    by it are replayed from their contract date, MONEY_RULES.md): as on the local engine."""
    tables = synthetic_frames(60, AS_OF, seed=9, history_days=150)
    local = ParquetEngineStore(write_book(tables, tmp_path / "local"))
    turns = write_book(tables, tmp_path / "turns")
    app = App("sqlite://", load_settings(None))
    for day in (AS_OF - timedelta(days=3), AS_OF - timedelta(days=2)):
        run_day(local, app.run_context(day), AT)
        run_day(ParquetEngineStore(turns), app.run_context(day), AT)
    used = set(tables["loans"].get_column("product"))
    for day, doubled in ((AS_OF - timedelta(days=1), False), (AS_OF, True)):
        ctx = app.run_context(day)
        products = {code: replace(product, penalty_multiplier=Fraction(2))
                    if doubled or code not in used else product
                    for code, product in ctx.terms.products.items()}  # fmt: skip
        ctx = replace(ctx, terms=replace(ctx.terms, products=products))
        assert run_day(local, ctx, AT) == SparkEngine(spark, turns, buckets=3).run_day(ctx, AT)
        on_spark = ParquetEngineStore(turns)
        replayed = local.table(day, "replayed").height
        assert on_spark.table(day, "replayed").height == replayed
        assert (replayed > 0) == doubled, replayed
        same_outputs(local, on_spark, day)


def test_promises_are_judged_on_spark_as_the_domain_judges_them(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """The second night, money dated inside a promise's window arrives late (broken the first
    night, the promise is kept), and a promise made on the first night's day after that night
    counts that day's money (applied the night before): on Spark as locally, every promise
    as domain/promises.py judges it."""
    tables = synthetic_frames(20, AS_OF, seed=5, history_days=150)
    first = AS_OF - timedelta(days=1)
    loans = tables["loans"].get_column("loan_id")
    shape = tables["promises"].schema

    def rows(frame: pl.DataFrame, *given: tuple[Any, ...]) -> pl.DataFrame:
        return pl.concat([frame, pl.DataFrame(list(given), schema=frame.schema, orient="row")])

    tables["promises"] = rows(
        tables["promises"].cast(shape),
        ("PS1", loans[0], 10_000, first - timedelta(days=4), first - timedelta(days=2)),
    )
    tables["payments"] = rows(tables["payments"], ("SAME", loans[1], 5_000, first))
    second = {
        "payments": rows(tables["payments"], ("LATE", loans[0], 10_000, first - timedelta(days=3))),
        "promises": rows(tables["promises"], ("PS2", loans[1], 5_000, first, AS_OF)),
    }
    local, _ = _same_nights(spark, tables, tmp_path, buckets=2, second=second)
    for store in (local, ParquetEngineStore(tmp_path / "spark")):
        judged_as_the_domain_judges(store, AS_OF)
        kept = store.table(AS_OF, "promises").filter(pl.col("promise_id").is_in(["PS1", "PS2"]))
        assert kept.get_column("status").to_list() == ["kept", "kept"]


def _promises(*given: tuple[str, str]) -> pl.DataFrame:
    """Promises (id, loan) of 100 yuan, made the day before AS_OF and due on it."""
    return pl.DataFrame(
        {"promise_id": [p for p, _ in given], "loan_id": [loan for _, loan in given],
         "amount": [10_000] * len(given), "made_on": [AS_OF - timedelta(days=1)] * len(given),
         "due_on": [AS_OF] * len(given)},
    )  # fmt: skip


def test_spark_refuses_what_no_bucket_can_see(spark: "SparkSession", tmp_path: Path) -> None:
    # A loan given twice for two borrowers, a borrower given twice with two numbers, and an
    # instalment of no loan: each bucket sees a consistent part; only the whole book shows them.
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    loans, borrowers = tables["loans"], tables["borrowers"].get_column("borrower_id")
    twice = loans.head(1).with_columns(pl.lit(borrowers[-1]).alias("borrower_id"))
    stray = tables["installments"].head(1).with_columns(pl.lit("NO-LOAN").alias("loan_id"))
    app = App("sqlite://", load_settings(None))
    person = tables["borrowers"].head(1).with_columns(pl.lit("+8613900000000").alias("phone"))
    for name, changed, message in (
        ("loans", pl.concat([loans, twice]), "input loans: given twice: L00000001"),
        ("borrowers", pl.concat([tables["borrowers"], person]),
         "input borrowers: given twice: B00000001"),
        ("installments", pl.concat([tables["installments"], stray]),
         "input installments: a loan not in loans: NO-LOAN"),
        ("contact_attempts", pl.DataFrame(
            {"borrower_id": ["NO-ONE"], "contact_id": [None], "channel": ["call"],
             "to_phone": [None], "at": [AT], "outcome": ["no_answer"]},
            schema=tables["contact_attempts"].schema),
         "input contact_attempts: a borrower not in borrowers: NO-ONE"),
        ("holds", pl.DataFrame({"borrower_id": ["NO-ONE"], "kind": ["dispute"],
                                "starts_on": [AS_OF], "ends_on": [None]}),
         "input holds: a borrower not in borrowers: NO-ONE"),
        ("promises", _promises(("P1", "NO-LOAN")), "input promises: a loan not in loans: P1"),
        # Each bucket may see loans all named in one currency or none: only the whole book
        # shows one named beside one not.
        ("loans", loans.with_columns(currency=pl.when(pl.int_range(pl.len()) == 3)
                                     .then(None).otherwise(pl.lit("CNY"))),
         f"input loans: no currency, where the book's other loans name theirs: "
         f"{loans['loan_id'][3]}"),
        # An id once in the book, not once a bucket (two loans may sit in two buckets).
        ("promises", _promises(("P1", loans["loan_id"][0]), ("P1", loans["loan_id"][-1])),
         "input promises: given twice: P1"),
    ):  # fmt: skip
        book = write_book({**tables, name: changed}, tmp_path / name)
        with pytest.raises(BookFolderError, match=message):
            SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
        assert ParquetEngineStore(book).folder.runs() == []


def test_a_bucket_refusal_comes_out_as_the_error_it_is(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """What a bucket's own checks refuse (a bad row seen in one task) is raised as the book's
    error, naming the row, not as the Spark error carrying its traceback (found by
    helper-44); a loan id that reads like an error of its own changes nothing (helper-45);
    nothing is written."""
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    fifth = pl.int_range(pl.len()) == 4
    crafted = _renamed(tables, tables["loans"]["loan_id"][4], CRAFTED)
    app = App("sqlite://", load_settings(None))
    for label, book_tables, message in (
        ("principal", tables, f"input loans: a principal not above zero: "
                              f"{tables['loans']['loan_id'][4]}"),
        ("id", crafted, "input loans: a principal not above zero: L5\narrears"),
    ):  # fmt: skip
        loans = book_tables["loans"].with_columns(
            pl.when(fifth).then(0).otherwise("principal").alias("principal")
        )
        book = write_book({**book_tables, "loans": loans}, tmp_path / label)
        with pytest.raises(BookFolderError, match=message):
            SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
        assert ParquetEngineStore(book).folder.runs() == []
    currencies = tables["loans"].with_columns(
        currency=pl.when(fifth).then(pl.lit("cny")).otherwise(pl.lit("CNY"))
    )
    book = write_book({**tables, "loans": currencies}, tmp_path / "currency")
    with pytest.raises(BookFolderError, match="input loans: a currency not an ISO 4217 code"):
        SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)


def test_a_spark_run_over_a_damaged_state_names_the_file(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """A Spark night after a local run whose loan table was cut short ends naming it, as a
    local night would, and commits nothing."""
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    app = App("sqlite://", load_settings(None))
    before = AS_OF - timedelta(days=1)
    run_day(store, app.run_context(before), AT)
    (first,) = store.folder.runs()
    part = store.folder.table_path(first, "loans") / "part-0.parquet"
    part.write_bytes(part.read_bytes()[:100])
    named = f"{first.folder}/loans/part-0.parquet cannot be read"
    with pytest.raises(StateDamaged, match=named):
        SparkEngine(spark, store.folder.root, buckets=3).run_day(app.run_context(AS_OF), AT)
    assert store.folder.runs() == [first]


def test_a_full_runs_state_gone_is_named_before_a_night_reads_it(
    spark: "SparkSession", tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Spark (full) run whose balances are gone is refused by name before either engine's
    night reads it: read as empty, they gave a night of wrong figures without a word
    (helper-46). One written before runs kept what they were given lacks nothing. A Polars
    panic on the way is looked behind too."""
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    book = write_book(tables, tmp_path / "book")
    app = App("sqlite://", load_settings(None))
    before = AS_OF - timedelta(days=1)
    SparkEngine(spark, book, buckets=3).run_day(app.run_context(before), AT)
    store = ParquetEngineStore(book)
    (full,) = store.folder.runs()
    for name in ("given_terms", "given_schedule"):  # as a run of an earlier release
        shutil.rmtree(store.folder.table_path(full, name))
    assert damage(store.folder, full, store.state_tables) == []
    shutil.rmtree(store.folder.table_path(full, "loan_balances"))
    named = f"{full.folder}/loan_balances/ is missing (the state after the run of {before}"
    with pytest.raises(StateDamaged, match=re.escape(named)):
        run_day(store, app.run_context(AS_OF), AT)
    with pytest.raises(StateDamaged, match=re.escape(named)):
        SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)

    def panics(*args: object) -> None:
        raise pl.exceptions.PanicException("called `Result::unwrap()` on an `Err` value")

    monkeypatch.setattr(SparkEngine, "_run_day", panics)
    with pytest.raises(StateDamaged, match=re.escape(named)) as raised:
        SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
    assert isinstance(raised.value.__cause__, pl.exceptions.PanicException)
    assert store.folder.runs() == [full]


def test_a_spark_run_for_a_day_past_is_refused_as_such(
    spark: "SparkSession", tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run for a day before the last is refused for that, not taken for a damaged state
    because the state it would start from was dropped long since (helper-47)."""
    monkeypatch.setattr(parquet_store, "CHAIN_LIMIT", 1)  # every night a base
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    store = ParquetEngineStore(write_book(tables, tmp_path / "book"))
    app = App("sqlite://", load_settings(None))
    days = [AS_OF - timedelta(days=n) for n in (2, 1, 0)]
    for day in days:
        run_day(store, app.run_context(day), AT)
    assert not store.folder.table_path(store.folder.runs()[0], "loans").exists()
    with pytest.raises(RunRefused, match="would move it back in time"):
        SparkEngine(spark, store.folder.root, buckets=3).run_day(app.run_context(days[1]), AT)


def test_a_spark_rerun_of_the_day_keeps_what_its_first_run_carried_out(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """The day run on each engine, L1's formal notice recorded as sent, the day run twice
    again: both keep the notice as sent and place the loan, with the same tables (helper-55:
    a Spark re-run set every action carried out back to planned, to be carried out again)."""
    app = App("sqlite://", load_settings(None))
    ctx = app.run_context(NOTICE_DAY)
    local = ParquetEngineStore(called_thrice(tmp_path / "local"))
    written = ParquetEngineStore(called_thrice(tmp_path / "spark"))
    on_spark = SparkEngine(spark, written.folder.root, buckets=2)
    run_day(local, ctx, AT)
    on_spark.run_day(ctx, AT)
    for store in (local, written):
        send_the_notice(store, NOTICE_DAY)
    for _ in range(2):
        assert run_day(local, ctx, AT) == on_spark.run_day(ctx, AT)
        same_outputs(local, written, NOTICE_DAY)
    plan = written.table(NOTICE_DAY, "plan").filter(pl.col("loan_id") == "L1")
    done = plan.filter(pl.col("status") != "planned")
    assert done.select("action", "status", "outcome").rows() == [("formal_notice", "done",
                                                                   "sent")]  # fmt: skip
    assert "agency_placement" in plan.get_column("action").to_list()


def test_a_refusal_is_made_again_with_its_own_message() -> None:
    """The driver makes a task's refusal again from Spark's text: its class found among the
    book's errors, its message as the task gave it (not rebuilt by the class's constructor,
    which may take other arguments: CalendarNotPublished takes a year, found by helper-45),
    newlines and all; a text with none gives none."""
    for error in (BookFolderError("input loans: a principal not above zero: L5\nX: y"),
                  CalendarNotPublished(2027), DomainError("plain")):  # fmt: skip
        text = f"Traceback ...\n  raise\nRuntimeError: {handed_over(error).args[0]}\n\tat jvm"
        again = refusal_in(text)
        assert type(again) is type(error)
        assert str(again) == str(error)
    assert refusal_in("Traceback ...\nKeyError: 'x'") is None


CRAFTED = "L5\narrears.adapters.book_folder.BookFolderError: nothing wrong"


def _renamed(tables: dict[str, pl.DataFrame], old: str, new: str) -> dict[str, pl.DataFrame]:
    """The book with one loan's id changed wherever it is named."""
    return {
        name: frame.with_columns(pl.col("loan_id").replace(old, new))
        if "loan_id" in frame.columns else frame
        for name, frame in tables.items()
    }  # fmt: skip


def test_spark_refuses_the_rows_the_local_engine_refuses(
    spark: "SparkSession", tmp_path: Path
) -> None:
    # Spark read the parts itself, past the local engine's row checks: a payment of no
    # amount was stored as the lowest Int64, one of no day was dropped, one of 0 or less
    # was ignored (helper-63). Each is refused on both engines; nothing is written.
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    third = pl.int_range(pl.len()) == 2
    payment = tables["payments"]["payment_id"][2]
    app = App("sqlite://", load_settings(None))
    for label, column, value, message in (
        ("no-amount", "amount", None, f"input payments: column 'amount' is empty: {payment}"),
        ("no-day", "paid_on", None, f"input payments: column 'paid_on' is empty: {payment}"),
        ("nothing", "amount", 0, f"payments of no amount above zero \\(in fen\\): {payment}"),
        # The largest amount a feed takes (money.LARGEST_AMOUNT), on every engine.
        ("too-much", "amount", 10**15, f"amount above 9999999999999.99 .*: {payment}"),
    ):
        changed = tables["payments"].with_columns(
            pl.when(third).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        )
        book = write_book({**tables, "payments": changed}, tmp_path / label)
        with pytest.raises(BookFolderError, match=message):
            SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
        assert ParquetEngineStore(book).folder.runs() == []
        with pytest.raises(BookFolderError, match=f"{column}|no amount|above"):
            run_day(ParquetEngineStore(book), app.run_context(AS_OF), AT)


def test_spark_names_a_missing_input_and_refuses_nanosecond_instants(
    spark: "SparkSession", tmp_path: Path
) -> None:
    tables = synthetic_frames(20, AS_OF, seed=4, history_days=150)
    app = App("sqlite://", load_settings(None))
    book = write_book({k: v for k, v in tables.items() if k != "installments"}, tmp_path / "a")
    with pytest.raises(BookFolderError, match="has no installments input"):
        SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
    # pandas' default instants, which the local engine reads and Spark cannot.
    attempts = tables["contact_attempts"].with_columns(pl.col("at").dt.cast_time_unit("ns"))
    book = write_book({**tables, "contact_attempts": attempts}, tmp_path / "b")
    with pytest.raises(BookFolderError, match="column 'at' holds instants in nanoseconds"):
        SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
    assert ParquetEngineStore(book).folder.runs() == []


def test_a_payment_sent_again_counts_once_on_spark_as_locally(
    spark: "SparkSession", tmp_path: Path
) -> None:
    # A payment given again as it was, in a second part: Spark counted it twice in the
    # loans' prints, so its loan was replayed every night after (helper-63).
    tables = synthetic_frames(40, AS_OF, seed=4, history_days=150)
    again = pl.concat([tables["payments"], tables["payments"].head(1)])
    local, days = _same_nights(spark, {**tables, "payments": again}, tmp_path, buckets=3)
    assert local.table(days[1], "replayed").height == 0


def test_spark_adds_up_a_book_past_int64_exactly_as_the_local_engine(
    compiled: "SparkSession", tmp_path: Path
) -> None:
    """A book owing more than Int64 holds: each bucket's totals and sums by currency come to
    the driver as 38-digit decimals, not Int64 (they wrapped negative). Compiled, as a real
    run's: Spark's compiled and interpreted arithmetic have parted on overflow before."""
    tables = huge_book()
    app = App("sqlite://", load_settings(None))
    ctx = app.run_context(HUGE_AS_OF)
    on_spark = SparkEngine(compiled, write_book(tables, tmp_path / "spark"), buckets=3)
    summary = on_spark.run_day(ctx, AT)
    local = ParquetEngineStore(write_book(tables, tmp_path / "local"))
    assert summary == run_day(local, ctx, AT)
    pair = ParquetEngineStore(write_book(huge_book(2), tmp_path / "pair"))
    assert_exact_totals(summary, run_day(pair, ctx, AT))


def _damage_a_page(part: Path, column: str) -> None:
    """Overwrite bytes in the middle of a column's data in a Parquet file (its footer, and so
    its schema, still reads: only reading the column's pages fails)."""
    chunk = pq.ParquetFile(part).metadata.row_group(0)
    meta = next(chunk.column(i) for i in range(chunk.num_columns)
                if chunk.column(i).path_in_schema == column)  # fmt: skip
    middle = meta.data_page_offset + meta.total_compressed_size // 2
    data = bytearray(part.read_bytes())
    data[middle : middle + 16] = b"\xff" * 16
    part.write_bytes(bytes(data))


def test_a_damaged_page_in_an_input_part_is_named_on_spark_as_locally(
    spark: "SparkSession", tmp_path: Path
) -> None:
    """An input part whose page is overwritten mid-file (not cut short: its footer reads) is
    named, input and part, as the local engine names it; Spark named neither (its JVM error
    said only "Data corruption detected"). Nothing is written."""
    tables = synthetic_frames(60, AS_OF, seed=4, history_days=150)
    app = App("sqlite://", load_settings(None))
    books = {}
    for engine in ("local", "spark"):
        book = write_book({k: v for k, v in tables.items() if k != "installments"},
                          tmp_path / engine)  # fmt: skip
        (book / "installments").mkdir()
        schedule, half = tables["installments"], tables["installments"].height // 2
        schedule.head(half).write_parquet(book / "installments" / "part-0.parquet")
        schedule.tail(-half).write_parquet(book / "installments" / "part-1.parquet")
        _damage_a_page(book / "installments" / "part-1.parquet", "seq")
        books[engine] = book
    named = "input installments: installments/part-1.parquet: cannot read it: "
    with pytest.raises(BookFolderError, match=named) as locally:
        run_day(ParquetEngineStore(books["local"]), app.run_context(AS_OF), AT)
    with pytest.raises(BookFolderError, match=named) as on_spark:
        SparkEngine(spark, books["spark"], buckets=3).run_day(app.run_context(AS_OF), AT)
    # The same reason as the local engine gives (Polars' own read of the part).
    assert str(on_spark.value).startswith(str(locally.value)), (on_spark.value, locally.value)
    folder = ParquetEngineStore(books["spark"]).folder
    assert folder.runs() == []
    assert not list(folder.state.glob(".tmp-*")), "nothing half-written"


def test_a_table_spark_fails_to_write_fails_the_night_and_leaves_nothing(
    spark: "SparkSession", tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The night's tables are written side by side: one that fails is raised as it was, once
    the writes under way end, and neither a run nor its begun folder is left (no write went
    on after it was dropped)."""
    from pyspark.sql.readwriter import DataFrameWriter

    real = DataFrameWriter.parquet

    def parquet(writer: DataFrameWriter, path: str, *args: Any, **kwargs: Any) -> None:
        if path.endswith("/blocked"):
            raise OSError("no space left on device")
        real(writer, path, *args, **kwargs)

    monkeypatch.setattr(DataFrameWriter, "parquet", parquet)
    book = write_book(synthetic_frames(20, AS_OF, seed=4, history_days=150), tmp_path / "book")
    app = App("sqlite://", load_settings(None))
    with pytest.raises(OSError, match="no space left on device"):
        SparkEngine(spark, book, buckets=3).run_day(app.run_context(AS_OF), AT)
    folder = ParquetEngineStore(book).folder
    assert folder.runs() == []
    assert not list(folder.state.glob(".tmp-*")), "nothing half-written"

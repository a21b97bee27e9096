"""The end-of-day run on Apache Spark: the same pipeline, one bucket of borrowers per task.

Borrowers are hashed into buckets by their phone number; every table of a bucket (its
borrowers, their loans, instalments, payments, contact history and stored state, and other
borrowers' calls to its numbers) travels to one Python task as Arrow, runs through
`batch.pipeline.run_pipeline` exactly as the local engine runs the whole book, and comes back
as Arrow rows that Spark writes into the same book folder layout. A borrower's loans stay in
one bucket because contact caps count per borrower, and borrowers who share a number share a
bucket because its dial cap counts every call to it; a bucket holds many borrowers because
each Python task has a fixed cost (a task per borrower would never end).
"""

import json
import os
import secrets
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from arrears.adapters.book_folder import (
    STATE_TABLES,
    BookFolder,
    BookFolderError,
    RunRecord,
    part_files,
)
from arrears.adapters.book_inputs import distinct_payments
from arrears.adapters.book_tables import (
    DONE_SCHEMA,
    GIVEN,
    INPUTS,
    OUTPUTS,
    REQUIRED_INPUTS,
    STATE,
    assemble,
    outputs,
    state_outputs,
    typed,
)
from arrears.adapters.book_views import full_state
from arrears.adapters.parquet_store import ParquetEngineStore, pack_zones, rules_fingerprint
from arrears.adapters.phone_zones import dialled_in_e164
from arrears.adapters.spark_summary import TOTALS, summary_frames, totals_of
from arrears.adapters.spark_tables import SlotUnion
from arrears.adapters.state_damage import damaged_input, plan_parts
from arrears.batch.book import PAYMENT_SCHEMA
from arrears.batch.pipeline import RunContext, run_pipeline
from arrears.batch.run import (
    CURRENCY_SUMS,
    RunRefused,
    currency_sums,
    day_summary,
)
from arrears.domain.errors import DomainError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

DEFAULT_MASTER = "local[2]"
WRITERS = 4  # output tables written at once (Spark runs jobs of several threads together)
# Settings that run queries interpreted, not compiled (spark_session(interpreted=True), for
# the tests; a real run leaves code generation on): on a book of a few dozen loans Spark spends
# more time generating and compiling each new query's code than running it (docs/
# PERFORMANCE.md, fifty-second session: a 40-loan night 7.45 → 6.12 s). Spark's own test suites
# hold both paths to the same results; `factoryMode` is one of its internal settings.
INTERPRETED = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}
IN = SlotUnion(
    {f"input:{name}": schema for name, schema in INPUTS.items()}
    | {f"state:{name}": OUTPUTS[name] for name in STATE}
    | {f"state:{name}": schema for name, schema in GIVEN.items()}
    | {
        "state:done": DONE_SCHEMA,
        "state:pauses": OUTPUTS["pauses"],
        "state:revisions": OUTPUTS["revisions"],
    }
)
OUT = SlotUnion({**OUTPUTS, **GIVEN, "totals": TOTALS, "currency_sums": CURRENCY_SUMS})


@contextmanager
def quiet_pandas() -> Iterator[None]:
    """Silence pyspark's pandas-version warning: the engine exchanges Arrow, never pandas."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
        yield


# How a task hands a refusal to the driver: this tag and the refusal as one JSON line (its
# error's class and message), which a loan id in the message cannot break (JSON escapes it).
_REFUSED = "arrears-bucket-refusal:"


def handed_over(error: DomainError) -> RuntimeError:
    """A task's refusal as the error Spark carries back to the driver (refusals_named)."""
    kind = type(error)
    found = {"kind": f"{kind.__module__}.{kind.__qualname__}", "message": str(error)}
    return RuntimeError(_REFUSED + json.dumps(found))


@contextmanager
def refusals_named() -> Iterator[None]:
    """A bucket's refusal (a DomainError raised in a task: a bad row of the book, say) raised
    here as the error it is, not as the Spark error that carries its traceback."""
    from pyspark.errors import PythonException

    try:
        yield
    except PythonException as error:
        refused = refusal_in(str(error))
        if refused is None:
            raise
        raise refused from None


def refusal_in(text: str) -> DomainError | None:
    """The refusal a task handed over (handed_over) in a Spark error's text, made again
    here: its class among DomainError's own (none imported for it), else DomainError; with
    its message alone (a class may build its message from other arguments). None: none."""
    at = text.rfind(_REFUSED)
    if at < 0:
        return None
    start = text.rfind("\n", 0, at) + 1  # the line it is on: the first tag on it is the real one
    at = text.index(_REFUSED, start) + len(_REFUSED)
    try:
        found, _ = json.JSONDecoder().raw_decode(text, at)
        name, message = str(found["kind"]), str(found["message"])
    except (ValueError, KeyError, TypeError):
        return None
    kind = next((k for k in _subclasses(DomainError)
                 if f"{k.__module__}.{k.__qualname__}" == name), DomainError)  # fmt: skip
    refused = kind.__new__(kind)
    Exception.__init__(refused, message)
    return refused


def _subclasses(kind: type[DomainError]) -> Iterator[type[DomainError]]:
    """A class and every class derived from it."""
    yield kind
    for sub in kind.__subclasses__():
        yield from _subclasses(sub)


def spark_session(
    master: str = DEFAULT_MASTER, shuffle_partitions: int = 4, *, interpreted: bool = False
) -> "SparkSession":
    """A Spark session that works offline and starts fast (no UI, loopback, few partitions:
    `shuffle_partitions` unless spark-submit's --conf set them); `interpreted`: its queries
    run without generated code (INTERPRETED: for tiny books, such as the tests')."""
    with quiet_pandas():
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.master(master).appName("arrears-run")
        settings = {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.session.timeZone": "UTC",
            # Microsecond instants with a UTC flag, as Polars writes and reads them.
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
            # A book on a local or mounted disk without Hadoop's checksum files: an executor
            # records outcomes by rewriting the plan's parts (docs/SPARK.md), which would leave
            # a checksum file stale and the next run unable to read the part.
            "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
        }
        if master.startswith("local"):
            # One machine: bind to loopback (no network needed) and run workers on this Python.
            settings |= {"spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1"}
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in settings.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # A runtime setting, set once the session is made, only where the submitter set none:
    # given to the builder it overrode spark-submit's --conf (helper-63: 64 asked, 4 ran).
    if not session.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
        session.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if interpreted:
        for key, value in INTERPRETED.items():
            session.conf.set(key, value)
    return session


def bucket_task(
    ctx: RunContext, zones: Mapping[str, str], rules_changed: bool = True
) -> Callable[[pa.Table], pa.Table]:
    """The grouped-Arrow task of a run (typed: pyspark reads the task's kind from its hints);
    `rules_changed`: since the state it goes on from was written (book_tables.assemble)."""

    def task(rows: pa.Table) -> pa.Table:
        try:
            return run_bucket(ctx, zones, rows, rules_changed)
        except DomainError as error:  # named to the driver, which raises it again as it is
            raise handed_over(error) from None

    return task


def run_bucket(
    ctx: RunContext, zones: Mapping[str, str], rows: pa.Table, rules_changed: bool = True
) -> pa.Table:
    """One bucket's end of day: its tables in, the pipeline, its output tables out (in a task)."""
    bucket = rows.column("bucket")[0].as_py()
    tables = IN.unpack(rows)
    inputs = {k.removeprefix("input:"): v for k, v in tables.items() if k.startswith("input:")}
    state = {k.removeprefix("state:"): v for k, v in tables.items() if k.startswith("state:")}
    if "loans" not in inputs:  # state of loans no longer fed in: dropped, as the local engine does
        return OUT.pack(bucket, {})
    frames = run_pipeline(assemble(inputs, state, ctx.as_of, ctx.terms, zones,
                                   rules_changed=rules_changed), ctx)  # fmt: skip
    # Each payment once, as the local engine keeps them (one sent again as it was counted
    # twice, and its loan was replayed every night: helper-63).
    payments = distinct_payments(typed(inputs.get("payments"), PAYMENT_SCHEMA))
    written = outputs(frames) | state_outputs(frames, payments)
    sums = pl.DataFrame(schema=CURRENCY_SUMS)
    if frames.currencies is not None:  # the book names its loans' currencies
        sums = currency_sums(frames, ctx.since)
    return OUT.pack(bucket, {**written, "totals": totals_of(frames.postings),
                             "currency_sums": sums})  # fmt: skip


def _refuse_across_buckets(
    loans: "DataFrame",
    installments: "DataFrame",
    payments: "DataFrame",
    optional: Mapping[str, "DataFrame"],
) -> None:
    """The book's checks a bucket cannot make (book_inputs.check_book makes the others in
    each): a loan id given twice (two borrowers: two buckets), a borrower or promise id given
    twice (two buckets), an instalment, payment, flag or promise of a loan not in the book
    (the join to buckets would drop it), a hold, opt-out or contact attempt of a borrower not
    in borrowers (it would land in a bucket without them), one payment id for two loans.
    `optional`: the optional inputs the book has, by name."""
    from pyspark.sql import functions

    found = {
        "loans: given twice": loans.groupBy("loan_id").count().filter("count > 1"),
        "installments: a loan not in loans": installments.join(loans, "loan_id", "left_anti"),
        "payments: payments for loans not in the book": payments.join(loans, "loan_id",
                                                                      "left_anti"),
        "payments: a payment id comes with different loans, amounts or days": payments.select(
            "payment_id", "loan_id", "amount", "paid_on"
        ).distinct().groupBy("payment_id").count().filter("count > 1"),
    }  # fmt: skip
    for name in ("flags", "revisions"):  # (the join to buckets would drop them)
        if name in optional:
            found[f"{name}: a loan not in loans"] = optional[name].join(loans, "loan_id",
                                                                        "left_anti")  # fmt: skip
    if "promises" in optional:
        promises = optional["promises"]
        found["promises: a loan not in loans"] = promises.join(
            loans, "loan_id", "left_anti"
        ).select("promise_id")  # named by its id, as book_inputs names it
        found["promises: given twice"] = promises.groupBy("promise_id").count().filter("count > 1")
    if "borrowers" in optional:
        borrowers = optional["borrowers"]
        found["borrowers: given twice"] = (
            borrowers.groupBy("borrower_id").count().filter("count > 1")
        )
        for name in ("holds", "opt_outs", "contact_attempts"):
            if name in optional:
                found[f"{name}: a borrower not in borrowers"] = optional[name].join(
                    borrowers, "borrower_id", "left_anti"
                )
    if "currency" in loans.columns:
        # Each bucket checks its own loans' currencies: all named or none, across them too.
        currency = functions.col("currency")
        counts = loans.agg(functions.count(currency).alias("named"),
                           functions.count("*").alias("all")).first()  # fmt: skip
        if counts is not None and 0 < counts["named"] < counts["all"]:
            found["loans: no currency, where the book's other loans name theirs"] = loans.filter(
                currency.isNull()
            )
    # Up to five of each check's rows, in one Spark job (a job each took a second a night).
    named = [
        rows.select(functions.col(rows.columns[0]).cast("string").alias("key"))
        .distinct().limit(5).withColumn("what", functions.lit(n))
        for n, rows in enumerate(found.values())
    ]  # fmt: skip
    seen = reduce(lambda a, b: a.unionAll(b), named).collect()
    for n, what in enumerate(found):
        first = [str(row["key"]) for row in seen if row["what"] == n]
        if first:
            raise BookFolderError(f"input {what}: {', '.join(sorted(first))}")


class SparkEngine:
    """Runs a book folder's end of day on a Spark session (local or a cluster)."""

    def __init__(
        self,
        spark: "SparkSession",
        directory: Path,
        buckets: int | None = None,
        default_zones: Mapping[str, str] | None = None,
    ) -> None:
        self.spark = spark
        self.folder = BookFolder(directory, INPUTS)
        self.buckets = buckets or 2 * spark.sparkContext.defaultParallelism
        self.zones = dict(default_zones) if default_zones is not None else pack_zones()

    def run_day(self, ctx: RunContext, at: datetime) -> dict[str, Any]:
        """The end of day for ctx.as_of, as batch.run.run_day, with the pipeline on Spark
        (the book held meanwhile: BookFolder.hold)."""
        with self.folder.hold():
            try:
                return self._run_day(ctx, at)
            except BaseException as error:  # a Polars panic too (interruptions: damage_behind)
                # What it failed reading of the state, named file by file, if that was it.
                self.folder.drop_begun()  # nothing half-written is left behind
                store = ParquetEngineStore(self.folder.root)
                found = store.damage_behind(error, ctx.as_of)
                if found is not None:
                    raise found from error
                # Or which input part it failed reading (Spark's error names it deep in
                # its JVM stack, if at all), named as the local engine names it.
                if isinstance(error, Exception) and not isinstance(error, DomainError):
                    damaged = damaged_input(self.folder, self._inputs_held(), error)
                    if damaged is not None:
                        raise damaged from error
                raise

    def _inputs_held(self) -> list[str]:
        """The inputs the book holds."""
        return [name for name in INPUTS if self.folder.has_input(name)]

    def _run_day(self, ctx: RunContext, at: datetime) -> dict[str, Any]:
        """run_day, the book held."""
        runs = self.folder.runs()
        previous = self.folder.run_before(ctx.as_of)
        if runs and ctx.as_of < runs[-1].as_of:
            raise RunRefused(
                f"the book was already run up to {runs[-1].as_of}; a run for {ctx.as_of} would "
                f"move it back in time"
            )
        for name in REQUIRED_INPUTS:  # as the local engine says it, not Spark's schema error
            if not self.folder.has_input(name):
                raise BookFolderError(f"the book {self.folder.root} has no {name} input")
        self.folder.refuse_strays()
        if previous is not None:
            ParquetEngineStore(self.folder.root).refuse_missing_state(previous)
        # The days this run reports what it posted for: those after the last run before it.
        since = max((r.as_of for r in runs if r.as_of < ctx.as_of), default=None)
        ctx = replace(ctx, since=since)
        rules = rules_fingerprint(ctx.terms, ctx.ladders)
        with quiet_pandas():
            grouped = self._inputs(ctx.as_of).groupBy("bucket")
            changed = previous is None or previous.terms != rules
            task = bucket_task(ctx, self.zones, changed)
            result = grouped.applyInArrow(task, OUT.ddl).persist()
        try:
            with refusals_named():  # the buckets run here: their refusals come out as they are
                totals = pl.from_arrow(self._table(result, "totals").toArrow())
            sums = pl.from_arrow(self._table(result, "currency_sums").toArrow())
            replaced = [r for r in runs if r.as_of == ctx.as_of]
            planned = None  # the run's own plan, when what was carried out is laid beside it
            folder = self.folder.begin(ctx.as_of)
            tables = {}
            for name in (*OUTPUTS, *GIVEN):  # from the cached result: Spark alone, no Python
                table = self._table(result, name)
                if name == "plan" and replaced:
                    planned = pl.from_arrow(table.toArrow())
                    table = self._carried(table, replaced[0])
                tables[name] = table
            _write_side_by_side(self.spark, tables, folder)
        finally:
            result.unpersist()
        assert isinstance(totals, pl.DataFrame)
        assert isinstance(sums, pl.DataFrame)
        assert planned is None or isinstance(planned, pl.DataFrame)
        # The summary counts what this run planned, as the local engine's and the database's
        # do: not the actions an earlier run of the day carried out, kept beside them.
        frames = summary_frames(folder, totals, sums, planned)
        stored = [r.summary for r in runs if r.as_of == ctx.as_of]
        summary = day_summary(frames, ctx.as_of, since, stored[0] if stored else None)
        assert frames.states is not None
        record = RunRecord(
            ctx.as_of, f"run-{ctx.as_of}-{secrets.token_hex(4)}", at.isoformat(),
            frames.states.height, summary, "full",
            {name: self.folder.fingerprint(name) for name in INPUTS}, rules,
        )  # fmt: skip
        # A full run holds the whole state (what it was given too); the previous run's is
        # kept to re-run this day.
        keep = {record.folder: set(STATE_TABLES)}
        if previous is not None:
            keep |= ParquetEngineStore(self.folder.root).state_tables(previous)
        self.folder.commit(folder, record, keep)
        return summary

    def _carried(self, plan: "DataFrame", replaced: RunRecord) -> "DataFrame":
        """The day's plan with every action an earlier run of the day carried out kept as
        recorded, and no row of the plan with its key (night_rows.carry_outcomes, in Spark)."""
        parts = [str(p) for p in part_files(self.folder.table_path(replaced, "plan"))]
        if not parts:
            return plan
        done = self.spark.read.parquet(*parts).filter("status <> 'planned'")
        fresh = plan.join(done.select("action_key"), on="action_key", how="left_anti")
        return fresh.unionByName(done.select(*plan.columns))

    def _table(self, result: "DataFrame", kind: str) -> "DataFrame":
        """One output table out of the union's rows."""
        placed = OUT.slots[kind]
        # In SQL text: a column built in Python costs several round trips to the JVM.
        rows = result.filter(f"kind = '{kind}'")
        return rows.selectExpr(*(f"{slot} AS `{name}`" for name, slot in placed.items()))

    def _inputs(self, as_of: date) -> "DataFrame":
        """Every table the run reads, as the input union's rows keyed by bucket (what the last
        run was given of each loan among them, its priced terms too)."""
        from pyspark.sql import functions

        # Each input read once, in the order the checks name them: a read checks its parts'
        # columns and has Spark list its files (20-30 ms each on a book of a few dozen loans;
        # read again for the union, a quarter of a second a night).
        first = ("loans", "borrowers", "flags", "promises", "holds", "opt_outs",
                 "contact_attempts", "revisions")  # fmt: skip
        order = (*first, *(name for name in INPUTS if name not in first))
        read = {name: self._read_input(name) for name in order if self.folder.has_input(name)}
        loans = read["loans"]
        optional = {name: read[name] for name in first[1:] if name in read}
        borrowers = optional.get("borrowers")
        _refuse_across_buckets(loans, read["installments"], read["payments"], optional)

        def hashed(column: str) -> "Column":
            return functions.pmod(functions.xxhash64(column), functions.lit(self.buckets))

        # A borrower's bucket is their number's: borrowers who share a number meet in one
        # task, where its dial cap counts every call to it (CONTRACT.md). One not among the
        # borrowers (refused in the task) goes by id.
        placed = (borrowers.select("borrower_id", hashed("phone").alias("placed"))
                  if borrowers is not None else None)  # fmt: skip

        def bucketed(frame: "DataFrame") -> "DataFrame":
            if placed is None:
                return frame.withColumn("bucket", hashed("borrower_id").cast("int"))
            bucket = functions.coalesce("placed", hashed("borrower_id")).cast("int")
            joined = frame.join(placed, on="borrower_id", how="left")
            return joined.withColumn("bucket", bucket).drop("placed")

        owners = bucketed(loans).select("loan_id", "bucket")
        tables = {f"input:{name}": read[name] for name in INPUTS if name in read}
        base = self.folder.run_before(as_of)
        if base is not None:
            tables |= self._state(base)
        # The actions done so far, the day's own too when it is run again (the book's first
        # day among them, with no state before it).
        done = [str(p) for p in plan_parts(self.folder, as_of)]
        if done:
            tables["state:done"] = self.spark.read.parquet(*done).filter("status <> 'planned'")
        rows = []
        for kind, frame in tables.items():
            if "borrower_id" in frame.columns:
                keyed = bucketed(frame)
            else:
                keyed = frame.join(owners, on="loan_id")
            if kind == "input:contact_attempts":
                keyed = _dialled_in_e164(keyed, borrowers)
                # A call to another borrower's number (their registered contact's, say) goes
                # to that number's bucket too: its dial cap counts it there.
                dialled = hashed("to_phone").cast("int")
                elsewhere = (
                    keyed.filter(functions.col("to_phone").isNotNull())
                    .withColumn("dialled", dialled)
                    .filter(functions.col("dialled") != functions.col("bucket"))
                )
                copies = elsewhere.withColumn("bucket", functions.col("dialled")).drop("dialled")
                keyed = keyed.unionByName(copies)
            rows.append(keyed.selectExpr(*_slots(kind, keyed.columns)))
        return reduce(lambda a, b: a.unionAll(b), rows)

    def _read(self, path: Path) -> "DataFrame":
        """A Parquet file or table folder."""
        return self.spark.read.parquet(str(path))

    def _read_input(self, name: str) -> "DataFrame":
        """An input: its file, or every part of its folder (their columns checked first, as
        the local engine checks them: times without a zone, say, are refused; a cell left
        empty is refused in the buckets, book_inputs.refuse_unfilled)."""
        from pyspark.sql import functions

        found = self.folder.check_input(name, INPUTS[name])
        for path, present in found.items():
            for column, given in present.items():
                if isinstance(given, pl.Datetime) and given.time_unit == "ns":
                    # Spark reads no nanosecond instants (pandas' default): a clear refusal,
                    # not its PARQUET_TYPE_ILLEGAL.
                    raise BookFolderError(
                        f"input {name}: {path.relative_to(self.folder.root)}: column "
                        f"{column!r} holds instants in nanoseconds, which Spark cannot read: "
                        f"write them in microseconds (e.g. pandas' "
                        f"`.astype('datetime64[us, UTC]')`)"
                    )
        frame = self.spark.read.parquet(*(str(p) for p in self.folder.input_parts(name)))
        # A UInt64 reads as a 20-digit decimal: one above the largest Int64 is refused here,
        # named, as the local engine refuses it (Spark failed casting it, unnamed).
        wide = sorted({c for present in found.values() for c, t in present.items()
                       if t == pl.UInt64 and INPUTS[name][c].is_integer()})  # fmt: skip
        for column in wide:
            over = frame.filter(functions.col(column) > functions.lit(2**63 - 1))
            rows = [str(row[0]) for row in over.select(frame.columns[0]).limit(5).collect()]
            if rows:
                raise BookFolderError(
                    f"input {name}: column {column!r} holds numbers out of range for Int64 in "
                    f"{', '.join(rows)}"
                )
        return frame

    def _state(self, run: RunRecord) -> dict[str, "DataFrame"]:
        """The whole book's state after a run. A full run's tables are read by Spark; the
        local engine's incremental state is put together by the Parquet store on the driver
        (one machine's memory: docs/SPARK.md) and handed to Spark as Arrow, with what that
        run was given of each loan (book_tables.GIVEN, its priced terms too)."""
        if run.kind == "full":
            found = {
                name: self._read(self.folder.table_path(run, name))
                for name in (*STATE, *GIVEN, "pauses", "revisions")
                if part_files(self.folder.table_path(run, name))
            }
            return {f"state:{name}": frame for name, frame in found.items()}
        whole = full_state(self.folder, run, given=True)
        with quiet_pandas():
            return {
                f"state:{name}": self.spark.createDataFrame(frame.to_arrow())
                for name, frame in whole.items()
                if name in STATE or name in GIVEN or name in ("pauses", "revisions")
            }


def _write_side_by_side(
    spark: "SparkSession", tables: Mapping[str, "DataFrame"], folder: Path
) -> None:
    """Each table into its folder, WRITERS at a time: each is a small job, most of whose time
    is the driver's and the scheduler's, not the executors' (one after another took 3.5 s of
    a 9 s night of 40 loans in local mode). The first write to fail is raised once the ones
    under way end; those not begun are not begun. Each thread carries the session's job group,
    pool and tags (pyspark's pinned threads)."""
    from pyspark.util import inheritable_thread_target

    def write(name: str) -> None:
        tables[name].write.mode("overwrite").parquet(str(folder / name))

    with ThreadPoolExecutor(WRITERS) as pool:
        inheriting = inheritable_thread_target(spark)(write)
        started = [pool.submit(inheriting, name) for name in tables]
        waiting = wait(started, return_when=FIRST_EXCEPTION).not_done
        for future in waiting:
            future.cancel()
    for future in started:  # the first in the tables' order (a cancelled one raised nothing)
        error = None if future.cancelled() else future.exception()
        if error is not None:
            raise error


def _dialled_in_e164(attempts: "DataFrame", borrowers: "DataFrame | None") -> "DataFrame":
    """The attempts with each number written without its country code read in E.164, in the
    country of the borrower's own number (people_index.attempts_in_e164 does so in a task):
    before a call is sent to its number's bucket, so that it is counted there whoever made it
    and however it was written. Only those rows go through Python."""
    from pyspark.sql import functions

    written = functions.col("to_phone")
    national = written.isNotNull() & ~written.startswith("+")
    kept = attempts.filter(~national)
    rest = attempts.filter(national)
    if borrowers is None:
        like = rest.withColumn("_like", functions.lit(None).cast("string"))
    else:
        owners = borrowers.select("borrower_id", functions.col("phone").alias("_like"))
        like = rest.join(owners.dropDuplicates(["borrower_id"]), on="borrower_id", how="left")
    # A lambda: Spark reads a typed function's hints as an Arrow UDF's and refuses these.
    read = functions.udf(lambda raw, like: dialled_in_e164(raw, like), "string")
    found = like.withColumn("to_phone", read(written, functions.col("_like"))).drop("_like")
    return kept.unionByName(found)


def _slots(kind: str, columns: list[str]) -> list[str]:
    """A table's columns laid into the input union's slots (absent ones as typed nulls), as
    SQL text: a union ~30 slots wide built of Python columns took thousands of round trips to
    the JVM a night."""
    placed = {slot: name for name, slot in IN.slots[kind].items()}
    laid = ["bucket", f"'{kind}' AS kind"]
    for slot in IN.columns:
        name = placed.get(slot)
        value = f"`{name}`" if name in columns else "NULL"
        laid.append(f"CAST({value} AS {IN.slot_type(slot)}) AS {slot}")
    return laid

"""The whole state of a Parquet book after a run, put together from where its parts are kept.

A whole-book night, the Spark engine and reports read the state as the tables a full run
writes (loan_balances, instalment_states, cases, promises, loan_states); an incremental run
keeps it as a loan table chain, segments and settled lines. Resting loans are shown as of the
run's day (their state date brought forward, exactly as working them would have), and so is
the night's charges table (the runs of resting loans carried on: `resting_runs`).
"""

from datetime import date
from functools import cached_property

import polars as pl

from arrears.adapters.book_folder import BookFolder, RunRecord, part_files
from arrears.adapters.book_night import runs_carried
from arrears.adapters.book_tables import (
    GIVEN,
    LOAN_STATE_SCHEMA,
    ORDER,
    OUTPUTS,
    typed,
)
from arrears.adapters.line_segments import read_all_lines
from arrears.adapters.loan_table import positions, read_loan_table, rolled
from arrears.batch.ageing import LOAN_COLUMNS, SUMMARY_SCHEMA, states_from_summaries
from arrears.batch.book import LOAN_SCHEMA
from arrears.batch.ledger import CHARGE_SCHEMA
from arrears.batch.ledger_arrays import day_number


def chain_of(folder: BookFolder, run: RunRecord) -> list[str]:
    """The run folders whose loan tables make up `run`'s: its base, then the deltas."""
    chain: list[str] = []
    for record in reversed([r for r in folder.runs() if r.as_of <= run.as_of]):
        chain.append(record.folder)
        if record.kind == "base":
            return chain[::-1]
    raise KeyError(f"the run of {run.as_of} has no base run before it")


def read_table(folder: BookFolder, run: RunRecord, name: str) -> pl.DataFrame:
    """A table a run wrote (parts written by Spark come in any order: sorted by key)."""
    parts = part_files(folder.table_path(run, name))
    if not parts:
        return typed(None, OUTPUTS[name])
    frame = typed(pl.read_parquet(parts), OUTPUTS[name])
    return frame.sort(ORDER[name]) if len(parts) > 1 else frame


def full_state(
    folder: BookFolder,
    run: RunRecord,
    *,
    with_states: bool = False,
    given: bool = False,
) -> dict[str, pl.DataFrame]:
    """The whole book's state after a run, as the tables a whole-book load reads
    (loan_balances, instalment_states, cases, promises; loan_states when asked); with
    `given`, what the run was given of each loan where its state keeps it (book_tables.GIVEN:
    its terms, priced ones too)."""
    names = ["loan_balances", "instalment_states", "cases", "promises"]
    if with_states:
        names.append("loan_states")
    if given:
        names += ["pauses", "revisions"]
    if run.kind == "full":
        state = run_tables(folder, run, names)
        return state | _given_tables(folder, run) if given else state
    view = _RunView(folder, run)
    state = {name: view.table_named(name) for name in names}
    if given:
        terms = GIVEN["given_terms"]
        state["given_terms"] = view.table.select(list(terms)).cast(terms)
        state["given_schedule"] = typed(view.lines, GIVEN["given_schedule"])
    return state


def run_tables(folder: BookFolder, run: RunRecord, names: list[str]) -> dict[str, pl.DataFrame]:
    """Tables of a run as a run working every loan writes them: an incremental run's state
    views and charges put together from one read of its loan table and lines, however many
    of them are asked for (each costs a read of the chain otherwise), the others as written."""
    if run.kind == "full":
        return {name: read_table(folder, run, name) for name in names}
    view = _RunView(folder, run)
    return {name: view.table_named(name) for name in names}


class _RunView:
    """An incremental run's loan table and lines, each read the first time it is needed."""

    def __init__(self, folder: BookFolder, run: RunRecord) -> None:
        self.folder, self.run = folder, run

    @cached_property
    def table(self) -> pl.DataFrame:
        """The run's loan table, read along its chain of runs."""
        return read_loan_table(self.folder.state, chain_of(self.folder, self.run))

    @cached_property
    def lines(self) -> pl.DataFrame:
        """Every line of the book on the run's day."""
        return _lines_on(self.folder, self.run, self.table)

    def table_named(self, name: str) -> pl.DataFrame:
        """One table of the run, as a run working every loan writes it."""
        as_of = self.run.as_of
        if name == "loan_balances":
            return typed(rolled(self.table, as_of), OUTPUTS["loan_balances"])
        if name == "instalment_states":
            return typed(self.lines, OUTPUTS["instalment_states"])
        if name == "cases":
            cases = self.table.filter(pl.col("stage").is_not_null())
            return typed(cases.with_columns(pl.lit(as_of).alias("as_of")), OUTPUTS["cases"])
        if name == "loan_states":
            pauses = read_table(self.folder, self.run, "pauses")
            return loan_states(self.table, as_of, pauses)
        if name == "charges":
            # The charges of the loans the run worked, and the runs its resting loans
            # carried on (resting_runs).
            carried_on = resting_runs(self.lines, self.table, as_of)
            worked = read_table(self.folder, self.run, "charges")
            return pl.concat([worked, carried_on]).sort(ORDER["charges"])
        return read_table(self.folder, self.run, name)


def _given_tables(folder: BookFolder, run: RunRecord) -> dict[str, pl.DataFrame]:
    """What a full run was given of each loan, where it kept it (a run before these tables
    were written keeps none; one before the priced terms were kept, not those:
    book_tables.given_otherwise compares what it kept)."""
    found = {}
    for name, schema in GIVEN.items():
        parts = part_files(folder.table_path(run, name))
        if parts:
            read = pl.read_parquet(parts)
            found[name] = typed(read, schema).select(n for n in schema if n in read.columns)
    return found


def _lines_on(folder: BookFolder, run: RunRecord, table: pl.DataFrame) -> pl.DataFrame:
    """Every line of the loans of `table` (the run's loan table) on the run's day."""
    days = {r.folder: r.as_of for r in folder.runs() if r.as_of <= run.as_of}
    return carried(read_all_lines(folder.state, table, days), table, run.as_of)


def carried(lines: pl.DataFrame, table: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Every line on as_of: a resting loan's open runs of alike penalty days carried on over
    the days since its state date (book_night.runs_carried)."""
    loans = table.select("loan_id", "state_date")
    at = positions(loans.get_column("loan_id"), lines.get_column("loan_id"))
    state = loans.get_column("state_date").to_physical().cast(pl.Int64).to_numpy()[at]
    return runs_carried(lines, state, day_number(as_of) - state)


def resting_runs(lines: pl.DataFrame, table: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The charge records (ledger.CHARGE_SCHEMA) of the runs of alike penalty days that loans
    resting on as_of carry on (`lines`: as `carried` gives them): the records a run working
    every loan writes for them that night, each run as it stands."""
    resting = table.filter(pl.col("state_date") < as_of).select("loan_id")
    runs = lines.join(resting, on="loan_id", how="semi").filter(pl.col("run_last") == as_of)
    return runs.select(
        "loan_id", "seq", pl.lit("penalty").alias("kind"), pl.col("run_first").alias("posted_on"),
        pl.col("run_first").alias("first_day"), pl.col("run_last").alias("last_day"),
        pl.col("run_base").alias("base"), pl.col("run_daily").alias("daily"),
        (pl.col("run_daily") * ((pl.col("run_last") - pl.col("run_first")).dt.total_days() + 1))
        .alias("amount"),
    ).cast(CHARGE_SCHEMA)  # fmt: skip


def loan_states(
    table: pl.DataFrame, as_of: date, pauses: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Every loan's state on a run's day, from the summaries of its loan table (and the
    pauses the run worked with: the days past due of a loan with some do not count them)."""
    schema = pl.Schema({**{n: LOAN_SCHEMA[n] for n in LOAN_COLUMNS}, **SUMMARY_SCHEMA,
                        "summary_day": pl.Date()})  # fmt: skip
    summaries = table.select(list(schema)).cast(schema)
    signed = table.get_column("contract_date")
    return typed(states_from_summaries(summaries, as_of, signed, pauses), LOAN_STATE_SCHEMA)

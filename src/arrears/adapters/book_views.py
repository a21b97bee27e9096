"""The whole state of a Parquet book after a run, put together from where its parts are kept.

A whole-book night, the Spark engine and reports read the state as the tables a full run
writes (loan_balances, instalment_states, cases, promises, loan_states); an incremental run
keeps it as a loan table chain, segments and settled lines. Resting loans are shown as of the
run's day (their state date brought forward, exactly as working them would have), and so is
the night's charges table (the runs of resting loans carried on: `resting_runs`).
"""

from datetime import date

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

STATE_VIEWS = ("loan_balances", "instalment_states", "cases", "loan_states")


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
    names = ("loan_balances", "instalment_states", "cases", "promises")
    if run.kind == "full":
        state = {n: read_table(folder, run, n) for n in names}
        if with_states:
            state["loan_states"] = read_table(folder, run, "loan_states")
        if given:
            state |= _given_tables(folder, run)
            state["pauses"] = read_table(folder, run, "pauses")
            state["revisions"] = read_table(folder, run, "revisions")
        return state
    table = read_loan_table(folder.state, chain_of(folder, run))
    lines = _lines_on(folder, run, table)
    cases = table.filter(pl.col("stage").is_not_null()).with_columns(
        pl.lit(run.as_of).alias("as_of")
    )
    state = {
        "loan_balances": typed(rolled(table, run.as_of), OUTPUTS["loan_balances"]),
        "instalment_states": typed(lines, OUTPUTS["instalment_states"]),
        "cases": typed(cases, OUTPUTS["cases"]),
        "promises": read_table(folder, run, "promises"),
    }
    if with_states:
        state["loan_states"] = loan_states(table, run.as_of, read_table(folder, run, "pauses"))
    if given:
        state["pauses"] = read_table(folder, run, "pauses")
        state["revisions"] = read_table(folder, run, "revisions")
        terms = GIVEN["given_terms"]
        state["given_terms"] = table.select(list(terms)).cast(terms)
        state["given_schedule"] = typed(lines, GIVEN["given_schedule"])
    return state


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


def night_charges(folder: BookFolder, run: RunRecord) -> pl.DataFrame:
    """The charges table of an incremental run as a run working every loan writes it: what
    the run's worked loans posted, and the runs its resting loans carried on (resting_runs)."""
    table = read_loan_table(folder.state, chain_of(folder, run))
    carried_on = resting_runs(_lines_on(folder, run, table), table, run.as_of)
    return pl.concat([read_table(folder, run, "charges"), carried_on]).sort(ORDER["charges"])


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

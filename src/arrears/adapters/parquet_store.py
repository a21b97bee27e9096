"""The columnar run's store over a folder of Parquet files (batch.ports.EngineStore).

A night reads the loan table (loan_table.py: every loan's terms, totals, last summary and
case) and the instalment lines of only the loans it must work: those whose summary says they
may change today (`wake_on`), those with money arriving, and those rebuilt from their
contract date (a back-dated payment). Every other loan rests: its state on the day follows
from its summary. The night writes the loan table's changed rows, the worked loans' lines
(line_segments.py) and its outputs. A night that finds the loans or instalments input, a
payments part already read, or the product terms changed, the first night, a night after a
Spark run, and any night of a store made with `work_all` read the whole book instead and
write a new base (book_tables.assemble, as the Spark engine does per bucket).
"""

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from arrears.adapters.book_folder import (
    BookFolder,
    BookFolderError,
    Fingerprint,
    RunRecord,
    part_files,
    write_table,
)
from arrears.adapters.book_tables import (
    DONE_SCHEMA,
    HISTORY_DAYS,
    INPUTS,
    LOAN_STATE_SCHEMA,
    ORDER,
    OUTPUTS,
    REQUIRED_INPUTS,
    UTC,
    assemble,
    outputs,
    typed,
    with_default_zone,
)
from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.line_segments import (
    read_all_lines,
    read_lines,
    settled_on,
    write_segment,
    write_settled,
)
from arrears.adapters.loan_table import (
    DYNAMIC,
    SCHEMA,
    STATIC,
    delta_rows,
    read_loan_table,
    write_loan_table,
)
from arrears.adapters.people_index import LoanHistory, PhoneReach
from arrears.adapters.zone_cache import add_zones, read_zones
from arrears.batch.ageing import states_from_summaries
from arrears.batch.book import LOAN_SCHEMA, Book, fresh_instalments
from arrears.batch.contact_plan import People
from arrears.batch.pipeline import RunFrames, resting_schema
from arrears.batch.stages import CASE_SCHEMA
from arrears.domain.terms import Terms

CHAIN_LIMIT = 10  # delta runs after a base before the next night writes a base again
# Inputs whose change sends a night down the whole-book path.
_WHOLE_BOOK_INPUTS = ("loans", "installments")


def pack_zones() -> dict[str, str]:
    """Each jurisdiction's default zone, from the shipped contact rule packs."""
    return {code: pack.default_zone for code, pack in contact_packs().items()}


def terms_fingerprint(terms: Terms) -> str:
    """A digest of what the loan terms columns are computed from (products, caps, LPR)."""
    text = repr((sorted(terms.products.items()), sorted(terms.cap_policies.items()), terms.lpr))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class _Night:
    """What load learned that save needs."""

    previous: RunRecord | None
    whole: bool  # read the whole book (and write a base)
    prints: dict[str, Fingerprint]
    terms: str
    reach: PhoneReach
    chain: list[str] = field(default_factory=list)  # the previous run's loan-table chain
    table: pl.DataFrame | None = None  # the previous run's loan table (incremental nights)
    payments: pl.DataFrame | None = None  # every payment (whole-book nights: the watermark)
    fresh: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema={"loan_id": pl.String}))


class ParquetEngineStore:
    """Implements batch.ports.EngineStore over a book folder (see book_folder for the layout).

    `load` for a day starts from the state of the latest run before that day, so re-running
    the latest day recomputes it from the same state and replaces it (same result, unless the
    inputs changed since).
    """

    def __init__(
        self,
        directory: Path,
        default_zones: Mapping[str, str] | None = None,
        *,
        work_all: bool = False,
    ) -> None:
        self.folder = BookFolder(directory)
        self.default_zones = dict(default_zones) if default_zones is not None else pack_zones()
        self.work_all = work_all
        self._night: _Night | None = None

    def last_run(self, before: date | None = None) -> date | None:
        """The latest completed run's date (strictly before `before` when given)."""
        days = [r.as_of for r in self.folder.runs() if before is None or r.as_of < before]
        return days[-1] if days else None

    def run_summary(self, as_of: date) -> dict[str, Any] | None:
        """The stored summary of the run for `as_of`."""
        found = [r.summary for r in self.folder.runs() if r.as_of == as_of]
        return found[0] if found else None

    # ── load ───────────────────────────────────────────────────────────────────────────

    def load(self, as_of: date, terms: Terms) -> RunFrames:
        """The run's frames: the loans to work tonight with their lines, the resting ones with
        their summaries, and the people, history, cases and promises."""
        for name in REQUIRED_INPUTS:
            if not self.folder.has_input(name):
                raise BookFolderError(f"the book {self.folder.root} has no {name} input")
        previous = self.folder.run_before(as_of)
        prints = {name: self.folder.fingerprint(name) for name in INPUTS}
        prints["payments"] = self._payment_days(prints["payments"], previous)
        key = terms_fingerprint(terms)
        if self._whole_book(previous, prints, key):
            return self._load_whole(previous, prints, key, as_of, terms)
        assert previous is not None
        return self._load_night(previous, prints, key, as_of, terms)

    def _whole_book(
        self, previous: RunRecord | None, prints: dict[str, Fingerprint], key: str
    ) -> bool:
        """Whether tonight must read the whole book (see the module's docstring)."""
        if self.work_all or previous is None or previous.kind == "full" or previous.terms != key:
            return True
        if any(prints[name] != previous.inputs.get(name) for name in _WHOLE_BOOK_INPUTS):
            return True
        seen = previous.inputs.get("payments", {})
        now = prints["payments"]
        # A payments part read before and changed or gone: which payments moved is unknown.
        return any(part not in now or now[part][:2] != was[:2] for part, was in seen.items())

    def _payment_days(self, parts: Fingerprint, previous: RunRecord | None) -> Fingerprint:
        """Each payments part's fingerprint with the last day it holds a payment for (kept
        from the previous run for a part unchanged since, else read off the part)."""
        seen = previous.inputs.get("payments", {}) if previous is not None else {}
        out: Fingerprint = {}
        for part, size in parts.items():
            was = seen.get(part)
            if was is not None and was[:2] == size and len(was) == 3:
                out[part] = was
                continue
            days = self.folder.read_input("payments", pl.Schema({"paid_on": pl.Date()}), [part])
            last = days.get_column("paid_on").max() if days is not None else None
            out[part] = [*size, last.toordinal() if isinstance(last, date) else 0]
        return out

    def _load_whole(
        self,
        previous: RunRecord | None,
        prints: dict[str, Fingerprint],
        key: str,
        as_of: date,
        terms: Terms,
    ) -> RunFrames:
        inputs = {
            name: frame
            for name, schema in INPUTS.items()
            if (frame := self.folder.read_input(name, schema)) is not None
        }
        state = self.full_state(previous) if previous is not None else {}
        state["done"] = self.done_actions(as_of)
        frames = assemble(inputs, state, as_of, terms, self.default_zones,
                          read_zones(self.folder.state))  # fmt: skip
        reach = frames.people.reach
        assert isinstance(reach, PhoneReach)
        loans = frames.book.loans.select("loan_id")
        self._night = _Night(previous, True, prints, key, reach, payments=inputs["payments"],
                             fresh=loans)  # fmt: skip
        return frames

    def _load_night(
        self,
        previous: RunRecord,
        prints: dict[str, Fingerprint],
        key: str,
        as_of: date,
        terms: Terms,
    ) -> RunFrames:
        chain = self._chain(previous)
        table = read_loan_table(self.folder.state, chain)
        payments = self._new_payments(previous, prints, as_of)
        # Money dated on or before the last run arrived late: its loan is rebuilt from its
        # contract date, as a whole-book run would (its payments up to then changed).
        late = pl.col("paid_on") <= previous.as_of
        replay = payments.filter(late).select("loan_id").unique().sort("loan_id")
        first_paid = (
            payments.filter(~late)
            .group_by("loan_id")
            .agg(pl.col("paid_on").min().alias("first_paid"))
        )
        marked = table.join(first_paid, on="loan_id", how="left", maintain_order="left")
        rebuilt = pl.col("loan_id").is_in(replay.get_column("loan_id").implode())
        woken = (
            (pl.col("wake_on") <= as_of) | (pl.col("first_paid") <= as_of) | rebuilt
        ).fill_null(False)
        worked = marked.filter(woken & ~rebuilt)
        book = self._book(worked, table.filter(rebuilt), payments, replay, as_of, terms)
        resting = marked.filter(~woken).select(list(resting_schema())).cast(resting_schema())
        cases = table.filter(pl.col("stage").is_not_null()).select(
            "loan_id", "borrower_id", "stage", "entered_on", "reason", "ladder", "arm",
            pl.lit(previous.as_of).alias("as_of"),
        ).cast(CASE_SCHEMA)  # fmt: skip
        people, history, reach = self._people(table, as_of, terms)
        self._night = _Night(previous, False, prints, key, reach, chain, table, fresh=replay)
        return RunFrames(
            book, people, resting=resting, replay=replay, history=history, cases=cases,
            promises=self._promises(previous),
        )  # fmt: skip

    def _chain(self, run: RunRecord) -> list[str]:
        """The run folders whose loan tables make up `run`'s: its base, then the deltas."""
        runs = [r for r in self.folder.runs() if r.as_of <= run.as_of]
        chain: list[str] = []
        for record in reversed(runs):
            chain.append(record.folder)
            if record.kind == "base":
                return chain[::-1]
        raise BookFolderError(f"the run of {run.as_of} has no base run before it")

    def _new_payments(
        self, previous: RunRecord, prints: dict[str, Fingerprint], as_of: date
    ) -> pl.DataFrame:
        """Payments not yet applied: every row of the parts that are new, and the rows dated
        after the last run of the parts read before (a part written ahead of time)."""
        seen = previous.inputs.get("payments", {})
        schema = INPUTS["payments"]
        last = previous.as_of.toordinal()
        new = [part for part in prints["payments"] if part not in seen]
        old = [part for part, size in prints["payments"].items()
               if part in seen and size[2] > last]  # fmt: skip
        frames = [typed(self.folder.read_input("payments", schema, new), schema)] if new else []
        if old:
            recent = self.folder.read_input("payments", schema, old)
            frames.append(typed(recent, schema).filter(pl.col("paid_on") > previous.as_of))
        if not frames:
            return pl.DataFrame(schema=schema)
        found = pl.concat(frames).filter(pl.col("paid_on") <= as_of)
        return found.unique("payment_id", keep="first", maintain_order=True)

    def _book(
        self,
        worked: pl.DataFrame,
        rebuilt: pl.DataFrame,
        payments: pl.DataFrame,
        replay: pl.DataFrame,
        as_of: date,
        terms: Terms,
    ) -> Book:
        """The loans to work tonight: resting ones brought to the day before their first
        event with their stored lines, and back-dated ones rebuilt from their contract date."""
        gap = pl.min_horizontal("wake_on", "first_paid", pl.lit(as_of)) - pl.duration(days=1)
        day = pl.max_horizontal("state_date", gap)
        # Resting days change nothing but the allowance: each adds the outstanding principal.
        rolled = worked.with_columns(
            (pl.col("principal_days") + pl.col("outstanding_principal")
             * (day - pl.col("state_date")).dt.total_days()).alias("principal_days"),
            day.alias("state_date"),
        )  # fmt: skip
        loans = rolled.select(list(LOAN_SCHEMA))
        lines = read_lines(self.folder.state, worked.select("segment", "seg_row", "seg_rows"))
        if replay.height:
            fresh, fresh_lines = self._rebuild(rebuilt, replay, terms)
            loans = pl.concat([loans, fresh]).sort("loan_id")
            lines = pl.concat([lines, fresh_lines]).sort("loan_id", "due_date", "seq")
            payments = pl.concat([payments, self._payments_of(replay)]).unique(
                "payment_id", keep="first", maintain_order=True
            )
        kept = payments.join(loans.select("loan_id"), on="loan_id", how="semi")
        return Book(loans, lines, kept.filter(pl.col("paid_on") <= as_of))

    def _rebuild(
        self, rebuilt: pl.DataFrame, replay: pl.DataFrame, terms: Terms
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Loans rebuilt from their contract date: fresh state and fresh lines from the input."""
        wanted = replay.get_column("loan_id").implode()
        given = self.folder.read_input("installments", INPUTS["installments"])
        schedule = typed(given, INPUTS["installments"]).filter(pl.col("loan_id").is_in(wanted))
        lines = fresh_instalments(schedule.with_columns(pl.lit(None, pl.Date).alias("eff_due")))
        loans = rebuilt.select(list(STATIC)).with_columns(
            (pl.col("contract_date") - pl.duration(days=1)).alias("state_date"),
            pl.lit(0, pl.Int64).alias("charged"), pl.lit(0, pl.Int64).alias("principal_days"),
            pl.lit(0, pl.Int64).alias("credit"),
        ).select(list(LOAN_SCHEMA))  # fmt: skip
        del terms  # the stored terms are tonight's: the terms fingerprint did not change
        return loans, lines

    def _payments_of(self, replay: pl.DataFrame) -> pl.DataFrame:
        """Every payment of some loans (a rebuilt loan applies them all again)."""
        schema = INPUTS["payments"]
        every = typed(self.folder.read_input("payments", schema), schema)
        return every.filter(pl.col("loan_id").is_in(replay.get_column("loan_id").implode()))

    def _people(
        self, table: pl.DataFrame, as_of: date, terms: Terms
    ) -> tuple[People, LoanHistory, PhoneReach]:
        """People the planner asks about, and the loans' action history for the guards."""
        got = {
            name: typed(self.folder.read_input(name, INPUTS[name]), INPUTS[name])
            for name in ("borrowers", "contact_attempts", "holds", "opt_outs")
        }
        owners = table.select("loan_id", "borrower_id", "product")
        borrowers = with_default_zone(got["borrowers"], owners, terms, self.default_zones)
        reach = PhoneReach(borrowers, read_zones(self.folder.state))
        since = pl.lit(as_of - timedelta(days=HISTORY_DAYS)).cast(UTC)
        attempts = (
            got["contact_attempts"].filter(pl.col("at") >= since).sort("at", maintain_order=True)
        )
        people = People.of_frames(reach, attempts, got["holds"], got["opt_outs"])
        return people, LoanHistory(attempts, self.done_actions(as_of), owners), reach

    def _promises(self, previous: RunRecord) -> pl.DataFrame:
        """The promises fed in, with what the last run judged of them."""
        given = typed(self.folder.read_input("promises", INPUTS["promises"]), INPUTS["promises"])
        stored = self.read_table(previous, "promises")
        judged = stored.select(
            "promise_id", pl.col("status").alias("s"), pl.col("settled_on").alias("o"),
            pl.col("paid").alias("p"),
        )  # fmt: skip
        joined = given.join(judged, on="promise_id", how="left", maintain_order="left")
        return joined.select(
            "promise_id", "loan_id", "amount", "made_on", "due_on",
            pl.coalesce("s", "status", pl.lit("open")).alias("status"),
            pl.coalesce("o", "settled_on").alias("settled_on"),
            pl.coalesce("p", pl.lit(0, pl.Int64)).alias("paid"),
        ).sort("promise_id")  # fmt: skip

    # ── save ───────────────────────────────────────────────────────────────────────────

    def save(self, frames: RunFrames, as_of: date, summary: dict[str, Any], at: datetime) -> None:
        """Write the run's loan table rows, lines and outputs into a new folder and commit it."""
        night = self._night
        assert night is not None, "load comes first"
        assert frames.summaries is not None, "the pipeline ran"
        assert frames.states is not None, "the pipeline ran"
        folder = self.folder.begin(as_of)
        name = f"run-{as_of}-{secrets.token_hex(4)}"
        lines = frames.book.instalments
        settled = settled_on(as_of)
        wake = frames.summaries.select("loan_id", "wake_on")
        spans = write_segment(folder, lines.filter(~settled), wake)
        write_settled(folder, lines.filter(settled))
        table = self._new_table(frames, night, spans, name, as_of)
        base = night.table is None or len(night.chain) >= CHAIN_LIMIT
        write_loan_table(
            folder, table if night.table is None or base else delta_rows(table, night.table)
        )
        for table_name, frame in self._outputs(frames, night, as_of).items():
            write_table(folder, table_name, frame, statistics=table_name == "plan")
        add_zones(self.folder.state, night.reach.learned)
        record = RunRecord(as_of, name, at.isoformat(), frames.states.height, summary,
                           "base" if base else "delta", night.prints, night.terms)  # fmt: skip
        chain = [name] if base else [*night.chain, name]
        self.folder.commit(folder, record, self._keep(night, table, chain))
        self._night = None

    def _new_table(
        self, frames: RunFrames, night: _Night, spans: pl.DataFrame, name: str, as_of: date
    ) -> pl.DataFrame:
        """Every loan's row after tonight: the worked loans' new totals, summaries and lines;
        every loan's case."""
        assert frames.summaries is not None
        worked = frames.book.loans
        applied = frames.applied.group_by("loan_id").agg(
            pl.len().cast(pl.Int64).alias("n"), pl.col("amount").sum().alias("s")
        )
        fresh = pl.col("loan_id").is_in(night.fresh.get_column("loan_id").implode())
        before = (
            night.table.select("loan_id", "payments_seen", "payments_sum")
            if night.table is not None
            else pl.DataFrame(schema={"loan_id": pl.String, "payments_seen": pl.Int64,
                                      "payments_sum": pl.Int64})
        )  # fmt: skip
        rows = (
            worked.join(frames.summaries.drop("borrower_id", "product", "grace_days", "credit",
                                              "charged"), on="loan_id", how="left")
            .join(spans, on="loan_id", how="left")
            .join(applied, on="loan_id", how="left")
            .join(before, on="loan_id", how="left")
            .with_columns(
                pl.when(pl.col("seg_rows").is_not_null()).then(pl.lit(name)).alias("segment"),
                pl.col("seg_row").fill_null(0), pl.col("seg_rows").fill_null(0),
                pl.when(fresh).then(pl.lit(as_of)).alias("lines_since_new"),
                (pl.when(fresh).then(0).otherwise(pl.col("payments_seen").fill_null(0))
                 + pl.col("n").fill_null(0)).alias("payments_seen"),
                (pl.when(fresh).then(0).otherwise(pl.col("payments_sum").fill_null(0))
                 + pl.col("s").fill_null(0)).alias("payments_sum"),
            )
        )  # fmt: skip
        if night.whole:
            assert night.payments is not None
            rows = rows.drop("payments_seen", "payments_sum").join(
                _watermark(night.payments, worked), on="loan_id", how="left"
            )
            table = rows.with_columns(pl.col("lines_since_new").alias("lines_since"))
        else:
            assert night.table is not None
            previous = night.table
            since = previous.select("loan_id", "lines_since")
            rows = rows.join(since, on="loan_id", how="left").with_columns(
                pl.coalesce("lines_since_new", "lines_since").alias("lines_since")
            )
            table = _replace_rows(previous, rows)
        return _with_cases(table, frames.cases).select(list(SCHEMA)).cast(SCHEMA)

    def _outputs(self, frames: RunFrames, night: _Night, as_of: date) -> dict[str, pl.DataFrame]:
        """The run's output tables (plan outcomes already recorded on a re-run are kept)."""
        payments = night.payments if night.payments is not None else frames.applied
        written = outputs(frames, payments)
        kept = {n: f for n, f in written.items() if n not in ("loan_balances",
                "instalment_states", "cases", "loan_states")}  # fmt: skip
        replaced = [r for r in self.folder.runs() if r.as_of == as_of]
        if replaced:
            kept["plan"] = _carry_outcomes(kept["plan"], self.read_table(replaced[0], "plan"))
        return kept

    def _keep(self, night: _Night, table: pl.DataFrame, chain: list[str]) -> dict[str, set[str]]:
        """The state tables the kept runs read: this run's (to go on from) and the previous
        one's (to re-run this day from)."""
        keep = _tables_read(chain, table)
        if night.previous is not None:
            for folder, tables in self.state_tables(night.previous, night.table).items():
                keep.setdefault(folder, set()).update(tables)
        return keep

    def state_tables(
        self, run: RunRecord, table: pl.DataFrame | None = None
    ) -> dict[str, set[str]]:
        """The state tables the whole state after `run` is read from, per run folder (its
        loan table `table`, when already read, saves reading it again)."""
        if run.kind == "full":
            return {run.folder: {"loan_balances", "instalment_states", "cases"}}
        chain = self._chain(run)
        if table is None:
            table = read_loan_table(self.folder.state, chain)
        return _tables_read(chain, table)

    # ── reading a run's tables ─────────────────────────────────────────────────────────

    def table(self, as_of: date, name: str) -> pl.DataFrame:
        """One table of the run of `as_of` (state tables as full views of the book)."""
        found = [r for r in self.folder.runs() if r.as_of == as_of]
        if not found:
            raise KeyError(f"no run for {as_of}")
        run = found[0]
        if run.kind == "full" or name not in ("loan_balances", "instalment_states", "cases",
                                              "loan_states"):  # fmt: skip
            return self.read_table(run, name)
        return self.full_state(run, with_states=True)[name]

    def read_table(self, run: RunRecord, name: str) -> pl.DataFrame:
        """A table a run wrote (parts written by Spark come in any order: sorted by key)."""
        parts = part_files(self.folder.table_path(run, name))
        if not parts:
            return typed(None, OUTPUTS[name])
        frame = typed(pl.read_parquet(parts), OUTPUTS[name])
        return frame.sort(ORDER[name]) if len(parts) > 1 else frame

    def full_state(self, run: RunRecord, *, with_states: bool = False) -> dict[str, pl.DataFrame]:
        """The whole book's state after a run, in the tables a whole-book load reads
        (loan_balances, instalment_states, cases, promises; loan_states when asked)."""
        if run.kind == "full":
            state = {n: self.read_table(run, n) for n in ("loan_balances", "instalment_states",
                                                          "cases", "promises")}  # fmt: skip
            if with_states:
                state["loan_states"] = self.read_table(run, "loan_states")
            return state
        table = read_loan_table(self.folder.state, self._chain(run))
        days = {r.folder: r.as_of for r in self.folder.runs() if r.as_of <= run.as_of}
        lines = read_all_lines(self.folder.state, table, days)
        rolled = _rolled(table, run.as_of)
        state = {
            "loan_balances": typed(rolled, OUTPUTS["loan_balances"]),
            "instalment_states": typed(lines, OUTPUTS["instalment_states"]),
            "cases": typed(
                table.filter(pl.col("stage").is_not_null()).with_columns(
                    pl.lit(run.as_of).alias("as_of")
                ),
                OUTPUTS["cases"],
            ),
            "promises": self.read_table(run, "promises"),
        }
        if with_states:
            summaries = table.select(*resting_schema())
            states = states_from_summaries(summaries, run.as_of)
            state["loan_states"] = typed(states, LOAN_STATE_SCHEMA)
        return state

    def done_actions(self, before: date) -> pl.DataFrame:
        """Planned actions of earlier runs whose outcome was recorded (the guards' history).
        Plans are written with statistics, so a plan whose actions are all still "planned"
        is skipped by its footer alone."""
        parts = [
            part
            for run in self.folder.runs()
            if run.as_of < before
            for part in part_files(self.folder.table_path(run, "plan"))
        ]
        if not parts:
            return typed(None, DONE_SCHEMA)
        plans = pl.scan_parquet(parts).filter(pl.col("status") != "planned")
        return typed(plans.select(list(DONE_SCHEMA)).collect(), DONE_SCHEMA)


def _tables_read(chain: list[str], table: pl.DataFrame) -> dict[str, set[str]]:
    """The loan tables of a chain and the segments its table points to."""
    keep: dict[str, set[str]] = {folder: {"loans"} for folder in chain}
    for segment in table.get_column("segment").drop_nulls().unique().to_list():
        keep.setdefault(segment, set()).add("instalment_states")
    return keep


def _watermark(payments: pl.DataFrame, loans: pl.DataFrame) -> pl.DataFrame:
    """Per loan, the count and sum of its payments dated up to its state date."""
    dated = payments.join(loans.select("loan_id", "state_date"), on="loan_id", how="inner")
    upto = dated.filter(pl.col("paid_on") <= pl.col("state_date"))
    seen = upto.group_by("loan_id").agg(
        pl.len().cast(pl.Int64).alias("payments_seen"), pl.col("amount").sum().alias("payments_sum")
    )
    return (
        loans.select("loan_id")
        .join(seen, on="loan_id", how="left")
        .with_columns(pl.col("payments_seen", "payments_sum").fill_null(0))
    )


def _replace_rows(table: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The table with some of its rows (by loan_id, both in loan_id order) replaced."""
    at = table.get_column("loan_id").search_sorted(rows.get_column("loan_id")).to_numpy()
    return table.with_columns(
        table.get_column(name).clone().scatter(at, rows.get_column(name).cast(DYNAMIC[name]))
        for name in DYNAMIC
        if name in rows.columns
    )


def _with_cases(table: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """The table with tonight's case of each loan (none for a loan without a ladder)."""
    case = ["stage", "entered_on", "reason", "ladder", "arm"]
    if cases.get_column("loan_id").equals(table.get_column("loan_id")):
        return table.with_columns(cases.get_column(c) for c in case)
    return table.drop(case).join(cases.select("loan_id", *case), on="loan_id", how="left",
                                 maintain_order="left")  # fmt: skip


def _rolled(table: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Loan balances on as_of: a resting loan's days since its state date only add its
    outstanding principal to the allowance."""
    days = (pl.lit(as_of) - pl.col("state_date")).dt.total_days()
    return table.with_columns(
        (pl.col("principal_days") + pl.col("outstanding_principal") * days).alias("principal_days"),
        pl.lit(as_of).alias("state_date"),
    )


def _carry_outcomes(plan: pl.DataFrame, replaced: pl.DataFrame) -> pl.DataFrame:
    """A re-run plans nothing twice: actions already carried out keep their recorded outcome."""
    done = replaced.filter(pl.col("status") != "planned")
    if done.height == 0:
        return plan
    kept = done.select("action_key", pl.col("status").alias("s"), pl.col("outcome").alias("o"))
    merged = plan.join(kept, on="action_key", how="left", maintain_order="left").with_columns(
        pl.coalesce("s", "status").alias("status"), pl.coalesce("o", "outcome").alias("outcome")
    )
    return typed(merged, OUTPUTS["plan"]).sort(ORDER["plan"])

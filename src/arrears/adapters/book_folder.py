"""A book as a folder of Parquet files: the inputs, and each run's state and outputs under state/.

    DIR/borrowers.parquet loans.parquet installments.parquet payments.parquet
        [contact_attempts.parquet promises.parquet holds.parquet opt_outs.parquet]
    DIR/state/runs.json                  the completed runs: date, folder, summary (commit point)
    DIR/state/run-<date>-<token>/<table>/part-*.parquet   one folder per completed run

A run writes its tables into a temporary folder, renames it into place, then replaces
runs.json atomically: a run killed at any point leaves runs.json naming the previous complete
run. A table is a folder of part files so that Spark's writers and ours give the same layout.
"""

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from arrears.adapters.book_tables import DONE_SCHEMA, INPUTS, ORDER, OUTPUTS, REQUIRED_INPUTS, typed
from arrears.domain.errors import DomainError

STATE_DIR = "state"
RUNS_FILE = "runs.json"
# Runs whose book state (balances, instalment states) is kept: the latest, to go on from, and
# the one before it, to re-run the latest day from. Older runs keep their outputs only.
KEPT_STATES = 2
_STATE_TABLES = ("loan_balances", "instalment_states")


class BookFolderError(DomainError):
    """The book folder is missing a required input or holds an unreadable file."""


@dataclass(frozen=True)
class RunRecord:
    """One completed run: its date, its folder under state/, when it finished, its summary."""

    as_of: date
    folder: str
    finished_at: str
    loans: int
    summary: dict[str, Any]


class BookFolder:
    """Reads a book folder's inputs and runs, and commits a run's tables atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / STATE_DIR

    def input_path(self, name: str) -> Path:
        """Where an input table lives (DIR/<name>.parquet)."""
        return self.root / f"{name}.parquet"

    def read_inputs(self) -> dict[str, pl.DataFrame]:
        """Every input present, with its known columns (required ones must be there)."""
        for name in REQUIRED_INPUTS:
            if not self.input_path(name).is_file():
                raise BookFolderError(f"the book {self.root} has no {name}.parquet")
        found = {}
        for name, schema in INPUTS.items():
            path = self.input_path(name)
            if path.is_file():
                present = pl.read_parquet_schema(path)
                found[name] = typed(
                    pl.read_parquet(path, columns=[c for c in schema if c in present]), schema
                )
        return found

    def runs(self) -> list[RunRecord]:
        """The completed runs, oldest first."""
        path = self.state / RUNS_FILE
        if not path.is_file():
            return []
        document = json.loads(path.read_text(encoding="utf-8"))
        return [
            RunRecord(date.fromisoformat(r["as_of"]), r["folder"], r["finished_at"], r["loans"],
                      r["summary"])
            for r in document["runs"]
        ]  # fmt: skip

    def run_before(self, as_of: date) -> RunRecord | None:
        """The latest completed run strictly before `as_of` (the state a run for it starts from)."""
        earlier = [r for r in self.runs() if r.as_of < as_of]
        return earlier[-1] if earlier else None

    def table_path(self, run: RunRecord, name: str) -> Path:
        """A run's table folder."""
        return self.state / run.folder / name

    def read_table(self, run: RunRecord, name: str) -> pl.DataFrame:
        """A run's table (parts written by Spark come in any order: sorted by the table's key)."""
        parts = part_files(self.table_path(run, name))
        if not parts:
            return typed(None, OUTPUTS[name])
        frame = typed(pl.read_parquet(parts), OUTPUTS[name])
        return frame.sort(ORDER[name]) if len(parts) > 1 else frame

    def done_actions(self, before: date) -> pl.DataFrame:
        """Planned actions of earlier runs whose outcome was recorded (the guards' history)."""
        parts = [
            part
            for run in self.runs()
            if run.as_of < before
            for part in part_files(self.table_path(run, "plan"))
        ]
        if not parts:
            return typed(None, DONE_SCHEMA)
        plans = pl.scan_parquet(parts).filter(pl.col("status") != "planned")
        return typed(plans.select(list(DONE_SCHEMA)).collect(), DONE_SCHEMA)

    def begin(self, as_of: date) -> Path:
        """A fresh temporary folder for a run's tables (left-overs of killed runs are removed)."""
        self.state.mkdir(parents=True, exist_ok=True)
        for stale in self.state.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        folder = self.state / f".tmp-{as_of}-{secrets.token_hex(4)}"
        folder.mkdir()
        return folder

    def commit(
        self, folder: Path, as_of: date, at: datetime, loans: int, summary: dict[str, Any]
    ) -> None:
        """Make a written run folder the run of `as_of`: rename it, then switch runs.json."""
        previous = {r.as_of: r for r in self.runs()}
        replaced = previous.get(as_of)
        if replaced is not None:
            _carry_outcomes(folder, self.table_path(replaced, "plan"))
        name = f"run-{as_of}-{secrets.token_hex(4)}"
        folder.rename(self.state / name)
        previous[as_of] = RunRecord(as_of, name, at.isoformat(), loans, summary)
        records = [previous[day] for day in sorted(previous)]
        _write_atomically(self.state / RUNS_FILE, {"runs": [_jsonable(r) for r in records]})
        # Folders no record names: the replaced run, and runs killed after their rename.
        named = {r.folder for r in records}
        for orphan in self.state.glob("run-*"):
            if orphan.name not in named:
                shutil.rmtree(orphan, ignore_errors=True)
        for old in records[:-KEPT_STATES]:
            for table in _STATE_TABLES:
                shutil.rmtree(self.table_path(old, table), ignore_errors=True)


def part_files(folder: Path) -> list[Path]:
    """A table folder's Parquet parts in name order (Spark's hidden .crc and _SUCCESS skipped)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".parquet" and p.name[0] not in "._")


def write_table(folder: Path, name: str, frame: pl.DataFrame) -> None:
    """Write one table of a run as a single part."""
    target = folder / name
    target.mkdir(parents=True, exist_ok=True)
    # LZ4: about half zstd's write time on the run's critical path, and reads as fast.
    frame.write_parquet(target / "part-0.parquet", compression="lz4", statistics=False)


def _carry_outcomes(folder: Path, replaced_plan: Path) -> None:
    """A re-run plans nothing twice: actions already carried out keep their recorded outcome."""
    old_parts, new_parts = part_files(replaced_plan), part_files(folder / "plan")
    if not old_parts or not new_parts:
        return
    done = pl.read_parquet(old_parts).filter(pl.col("status") != "planned")
    if done.height == 0:
        return
    plan = pl.read_parquet(new_parts)
    kept = done.select("action_key", pl.col("status").alias("s"), pl.col("outcome").alias("o"))
    merged = plan.join(kept, on="action_key", how="left", maintain_order="left").with_columns(
        pl.coalesce("s", "status").alias("status"), pl.coalesce("o", "outcome").alias("outcome")
    )
    shutil.rmtree(folder / "plan")
    write_table(folder, "plan", typed(merged, OUTPUTS["plan"]).sort(ORDER["plan"]))


def _jsonable(record: RunRecord) -> dict[str, Any]:
    document = asdict(record)
    document["as_of"] = record.as_of.isoformat()
    return document


def _write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON file by renaming a fully written and flushed copy over it."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)

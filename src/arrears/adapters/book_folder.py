"""A book as a folder of Parquet files: the inputs, and each run's state and outputs under state/.

    DIR/<input>.parquet   or   DIR/<input>/*.parquet     an input: one file, or a folder of parts
    DIR/state/runs.json                                  the completed runs (commit point)
    DIR/state/run-<date>-<token>/<table>/part-*.parquet  one folder per completed run
    DIR/state/zones-4-phonenumbers-<release>/part-*.parquet  phone zones worked out so far
                                                         (a cache per phonenumbers release)

A run writes its tables into a temporary folder, renames it into place, then replaces
runs.json atomically: a run killed at any point leaves runs.json naming the previous complete
run. A table is a folder of part files so that Spark's writers and ours give the same layout.
Each run records the fingerprint (size and modification time) of every input part it read,
so the next run knows which inputs changed. A run is `full` (every table of the whole book,
as the Spark engine and the first releases wrote it), a `base` or a `delta` (parquet_store).
"""

import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import polars as pl

from arrears.adapters.json_file import write_json_atomically
from arrears.adapters.paid_ids import PAID_FULL, PAID_NEW
from arrears.domain.errors import DomainError

STATE_DIR = "state"
RUNS_FILE = "runs.json"
LOCK_FILE = ".run.lock"
Fingerprint = dict[str, list[int]]  # part name → [size, mtime_ns] (payments: + last day)


# Columns an input may leave out or leave empty (CONTRACT.md's optional columns, and what a
# run judged of a promise); every other column of its schema must be in every part, filled.
OPTIONAL_COLUMNS = {
    "borrowers": ("timezone",),
    "loans": ("penalty_rate", "segment", "score", "currency"),
    "installments": ("fee_due",),
    "payments": ("channel",),
    "contact_attempts": ("contact_id", "to_phone"),
    "promises": ("status", "settled_on", "paid"),
    "holds": ("ends_on",),
    # An extension's days, a settlement's amount and deadline, a plan's months
    # (domain/revisions.py).
    "revisions": ("days", "amount", "deadline", "months"),
}
_SHOWN = 5  # rows a refusal names, before "and N more"


def _fits(actual: pl.DataType, wanted: pl.DataType) -> bool:
    """Whether a column of type `actual` reads as `wanted` without changing its meaning."""
    if actual == wanted or actual == pl.Null:
        return True
    if wanted.is_integer():
        return actual.is_integer()
    if isinstance(wanted, pl.Datetime):  # an instant: with its zone (_check_part)
        return isinstance(actual, pl.Datetime) and actual.time_zone is not None
    if wanted == pl.String:
        return isinstance(actual, (pl.Categorical, pl.Enum))
    return False


# What reading a damaged part may raise: Polars' errors, and its panics (a BaseException).
UNREADABLE = (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException)


def said(error: BaseException) -> str:
    """What a failed read says, first line (a panic's is the Rust assertion that failed)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _refuse_out_of_range(where: str, frame: pl.DataFrame, schema: pl.Schema) -> None:
    """Refuse a part whose integers do not fit the input's integer type (a UInt64 above the
    largest Int64, say), naming the column and the first rows."""
    for column in frame.columns:
        wanted, given = schema[column], frame.get_column(column)
        if not wanted.is_integer() or given.dtype == wanted or not given.dtype.is_integer():
            continue
        lost = given.is_not_null() & given.cast(wanted, strict=False).is_null()
        if lost.any():
            rows = frame.with_row_index("_row").filter(lost)
            shown = listed(rows.select(pl.format("row {} ({})", pl.col("_row") + 1, column)))
            raise BookFolderError(
                f"{where}: column {column!r} holds numbers out of range for {wanted} in {shown}"
            )


def _refuse_empty(where: str, frame: pl.DataFrame, optional: tuple[str, ...]) -> None:
    """Refuse a part with an empty cell in a column it must fill, naming the column and the
    first rows (from 1, with the row's first column: its id)."""
    for column in frame.columns:
        if column in optional or not frame.get_column(column).null_count():
            continue
        empty = frame.with_row_index("_row").filter(pl.col(column).is_null())
        row = pl.format("row {}", pl.col("_row") + 1)
        if column != frame.columns[0]:  # with the row's id, where it has one
            key = pl.col(frame.columns[0])
            row = pl.when(key.is_null()).then(row).otherwise(pl.format("{} ({})", row, key))
        raise BookFolderError(f"{where}: column {column!r} is empty in {listed(empty.select(row))}")


def listed(rows: pl.DataFrame, separator: str = ", ", most: int = _SHOWN) -> str:
    """The first rows (`most`) of a one-column frame of texts naming what is refused, joined,
    and how many more."""
    shown = separator.join(str(text) for text in rows.to_series().head(most))
    return shown + (f" and {rows.height - most} more" if rows.height > most else "")


class BookFolderError(DomainError):
    """The book folder is missing a required input or holds an unreadable file."""


@dataclass(frozen=True)
class RunRecord:
    """One completed run: its date, folder, when it finished, its summary, and what it read."""

    as_of: date
    folder: str
    finished_at: str
    loans: int
    summary: dict[str, Any]
    kind: str = "full"
    inputs: dict[str, Fingerprint] = field(default_factory=dict)
    terms: str = ""


class BookFolder:
    """Reads a book folder's inputs and runs, and commits a run's tables atomically.
    `inputs`: every input's columns (book_tables.INPUTS), which a part may not go beyond."""

    def __init__(self, root: Path, inputs: Mapping[str, pl.Schema]) -> None:
        self.root = root
        self.state = root / STATE_DIR
        self.inputs = inputs

    def refuse_strays(self) -> None:
        """Refuse a Parquet file or folder of parts at the book's root that is no input (a
        misnamed `payment/` or `hold.parquet` would be left unread without a word: payments
        and holds lost). Other files (a README, the settings) and hidden ones are left be."""
        for entry in sorted(self.root.iterdir()):
            name = entry.name
            if name[0] in "._" or name == STATE_DIR:
                continue
            stem = name.removesuffix(".parquet") if entry.is_file() else name
            looks = name.endswith(".parquet") if entry.is_file() else bool(part_files(entry))
            if looks and stem not in self.inputs:
                raise BookFolderError(
                    f"the book {self.root} holds {name}, which is no input a run reads (its "
                    f"inputs: {', '.join(self.inputs)}); rename it, or move it out of the book"
                )

    def input_parts(self, name: str) -> list[Path]:
        """The files of an input: DIR/<name>.parquet, or the parts of DIR/<name>/ in name order."""
        single, folder = self.root / f"{name}.parquet", self.root / name
        if single.is_file() and folder.is_dir():
            raise BookFolderError(f"the book {self.root} has both {name}.parquet and {name}/")
        parts = [single] if single.is_file() else part_files(folder)
        for part in parts:
            _named_in_utf8(name, part)
        if single.is_file():
            return parts
        if folder.is_dir():
            # A part in another format would be left unread without a word (payments lost).
            other = sorted(p.name for p in folder.iterdir() if p.name[0] not in "._")
            strays = [n for n in other if n not in {p.name for p in parts}]
            if strays:
                raise BookFolderError(
                    f"input {name}: {name}/{strays[0]} is not a Parquet part (a book reads "
                    f"only .parquet parts; convert it, or move it out of {name}/)"
                )
        return parts

    def has_input(self, name: str) -> bool:
        """Whether the book holds the input."""
        return bool(self.input_parts(name))

    def input_columns(self, name: str) -> set[str]:
        """The columns an input's parts hold, from their footers (none: no such input)."""
        return {c for path in self.input_parts(name) for c in self._part_schema(name, path)}

    def fingerprint(self, name: str) -> Fingerprint:
        """Size and modification time of each part of an input (a changed part reads again)."""
        found = {}
        for path in self.input_parts(name):
            stat = path.stat()
            found[path.relative_to(self.root).as_posix()] = [stat.st_size, stat.st_mtime_ns]
        return found

    def read_input(
        self, name: str, schema: pl.Schema, parts: Iterable[str] | None = None
    ) -> pl.DataFrame | None:
        """An input's columns of `schema` that it has (all parts, or the named ones)."""
        paths = self.input_parts(name)
        if parts is not None:
            wanted = set(parts)
            paths = [p for p in paths if p.relative_to(self.root).as_posix() in wanted]
        if not paths:
            return None
        columns = self._checked_parts(name, paths, schema)
        return pl.concat([self._read_part(name, path, columns, schema) for path in paths],
                         how="vertical_relaxed")  # fmt: skip

    def check_input(self, name: str, schema: pl.Schema) -> dict[Path, dict[str, pl.DataType]]:
        """Refuse an input whose parts' columns a run cannot read as `schema` says, from their
        footers alone (an engine that reads the parts itself: Spark); each part's columns."""
        paths = self.input_parts(name)
        self._checked_parts(name, paths, schema)
        return {path: self._part_schema(name, path) for path in paths}

    def _checked_parts(self, name: str, paths: list[Path], schema: pl.Schema) -> list[str]:
        """The columns of `schema` the parts have, each part checked (_check_part)."""
        found = {path: self._part_schema(name, path) for path in paths}
        columns = [c for c in schema if any(c in present for present in found.values())]
        for path, present in found.items():
            self._check_part(name, path, present, schema, columns)
        return columns

    def _part_schema(self, name: str, path: Path) -> dict[str, pl.DataType]:
        """A part's columns, refused (naming it) when it is not a Parquet file one can read."""
        try:
            return pl.read_parquet_schema(path)
        except UNREADABLE as error:
            where = f"input {name}: {path.relative_to(self.root)}"
            raise BookFolderError(f"{where}: cannot read it: {said(error)}") from None

    def _read_part(
        self, name: str, path: Path, columns: list[str], schema: pl.Schema
    ) -> pl.DataFrame:
        """One part of an input, refused (naming it) when unreadable, a cell that must be
        filled is empty, or a number does not fit the input's integer type."""
        where = f"input {name}: {path.relative_to(self.root)}"
        try:
            frame = pl.read_parquet(path, columns=columns)
        except UNREADABLE as error:
            raise BookFolderError(f"{where}: cannot read it: {said(error)}") from None
        # Texts written as categories (a dictionary-encoded export): read as the texts they are.
        coded = [
            c for c, t in frame.schema.items()
            if schema[c] == pl.String and isinstance(t, (pl.Categorical, pl.Enum))
        ]  # fmt: skip
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c in coded) if coded else frame
        _refuse_empty(where, frame, OPTIONAL_COLUMNS.get(name, ()))
        _refuse_out_of_range(where, frame, schema)
        return frame

    def _check_part(
        self, name: str, path: Path, present: Mapping[str, pl.DataType], schema: pl.Schema,
        columns: list[str],
    ) -> None:  # fmt: skip
        """Refuse a part that lacks a required column or one another part has, holds a column
        the input has not (a misspelt `penalty_rte` would be left unread: the product's rate
        taken), or one of a type the input's column cannot be read as, naming the part and
        column."""
        where = f"input {name}: {path.relative_to(self.root)}"
        known = self.inputs.get(name, schema)
        unknown = [column for column in present if column not in known]
        if unknown:
            raise BookFolderError(
                f"{where}: unknown column {unknown[0]!r} (the {name} input's columns: "
                f"{', '.join(known)})"
            )
        needed = [c for c in schema if c not in OPTIONAL_COLUMNS.get(name, ())]
        for column in dict.fromkeys([*needed, *columns]):
            if column not in present:
                raise BookFolderError(f"{where}: no column {column!r}")
            given, wanted = present[column], schema[column]
            if (
                isinstance(wanted, pl.Datetime)
                and isinstance(given, pl.Datetime)
                and (given.time_zone is None)
            ):
                raise BookFolderError(
                    f"{where}: column {column!r} holds times without a zone ({given}), which "
                    f"name no instant: write them in UTC or with their zone"
                )
            if not _fits(given, wanted):
                raise BookFolderError(f"{where}: column {column!r} is {given}, expected {wanted}")

    def runs(self) -> list[RunRecord]:
        """The completed runs, oldest first."""
        path = self.state / RUNS_FILE
        if not path.is_file():
            return []
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return [
                RunRecord(date.fromisoformat(r["as_of"]), r["folder"], r["finished_at"],
                          r["loans"], r["summary"], r.get("kind", "full"), r.get("inputs", {}),
                          r.get("terms", ""))
                for r in document["runs"]
            ]  # fmt: skip
        except (ValueError, KeyError, TypeError) as error:
            # Written whole and renamed (commit), so never half-written by a run: edited.
            raise BookFolderError(
                f"{path} is damaged ({type(error).__name__}: {error}); restore it from a backup"
            ) from None

    def run_before(self, as_of: date) -> RunRecord | None:
        """The latest completed run strictly before `as_of` (the state a run for it starts from)."""
        earlier = [r for r in self.runs() if r.as_of < as_of]
        return earlier[-1] if earlier else None

    def table_path(self, run: RunRecord | str, name: str) -> Path:
        """A run's table folder."""
        return self.state / (run if isinstance(run, str) else run.folder) / name

    def hold(self) -> BinaryIO:
        """Hold the book for one run until the returned file is closed: a second run of it
        meanwhile is refused, not let loose on the first one's folders (begin clears what a
        killed run left; commit what no record names). The hold ends with its process too."""
        self.state.mkdir(parents=True, exist_ok=True)
        handle = (self.state / LOCK_FILE).open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise BookFolderError(
                f"another run of the book {self.root} is in progress: wait for it to end"
            ) from None
        return handle

    def begin(self, as_of: date) -> Path:
        """A fresh temporary folder for a run's tables (left-overs of killed runs are removed:
        their folders, and the copies of runs.json and parts of the zones cache they were
        writing, which no run reads but would pile up; the book is held, so none is live)."""
        self.state.mkdir(parents=True, exist_ok=True)
        self.drop_begun()
        for stale in (*self.state.glob(f".{RUNS_FILE}.*"), *self.state.glob("zones-*/.part-*")):
            stale.unlink(missing_ok=True)
        folder = self.state / f".tmp-{as_of}-{secrets.token_hex(4)}"
        folder.mkdir()
        return folder

    def drop_begun(self) -> None:
        """Remove the temporary folders of runs begun and not committed (the book held: a run
        that failed drops what it had written, and none is live)."""
        if self.state.is_dir():
            for stale in self.state.glob(".tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)

    def commit(self, folder: Path, record: RunRecord, keep: Mapping[str, Iterable[str]]) -> None:
        """Make a written run folder the run of `record.as_of` (named `record.folder`): rename
        it, then switch runs.json; then drop the state tables no kept run reads (`keep`: per
        run folder, the state tables still read)."""
        previous = {r.as_of: r for r in self.runs()}
        folder.rename(self.state / record.folder)
        previous[record.as_of] = record
        records = [previous[day] for day in sorted(previous)]
        write_json_atomically(self.state / RUNS_FILE, {"runs": [_jsonable(r) for r in records]})
        # Folders no record names: the replaced run, and runs killed after their rename.
        named = {r.folder for r in records}
        for orphan in self.state.glob("run-*"):
            if orphan.name not in named:
                shutil.rmtree(orphan, ignore_errors=True)
        for kept in records:
            for table in STATE_TABLES:
                if table not in keep.get(kept.folder, ()):
                    shutil.rmtree(self.table_path(kept, table), ignore_errors=True)


# Tables that are a run's state, kept only while a later run may read them (the rest of a
# run's tables are its outputs, kept for good).
STATE_TABLES = ("loan_balances", "instalment_states", "cases", "loans", PAID_FULL, PAID_NEW,
                "given_terms", "given_schedule")  # fmt: skip


def _named_in_utf8(name: str, part: Path) -> None:
    """Refuse (naming it) a part whose path is not UTF-8 text: Parquet's readers take paths as
    UTF-8 (a GBK name from a Chinese Windows archive failed with a TypeError)."""
    try:
        str(part).encode("utf-8")
    except UnicodeEncodeError:
        raise BookFolderError(
            f"input {name}: the path of part {os.fsencode(part)!r} is not UTF-8 text: rename it "
            f"(or the folders above it) in UTF-8"
        ) from None


def part_files(folder: Path, suffixes: tuple[str, ...] = (".parquet",)) -> list[Path]:
    """A table folder's parts in name order (Parquet, or the files of `suffixes`; Spark's
    hidden .crc and _SUCCESS, and the hidden files of killed runs, skipped)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in suffixes and p.name[0] not in "._")


def read_rows(
    parts: list[Path], rows: np.ndarray, columns: Iterable[str] | None = None
) -> pl.DataFrame:
    """Some rows of a table's parts (sorted, distinct row numbers, at least one; `columns` of
    them, else every column). The row numbers are the scan's filter, so only the rows kept
    are built: a night keeps a fraction of the rows of the row groups it reaches (the loans it
    works lie between others), and building only those halves the read and its memory."""
    wanted = pl.Series(rows, dtype=pl.UInt32).implode()
    scan = pl.scan_parquet(parts, parallel="prefiltered", row_index_name=_ROW)
    if columns is not None:
        scan = scan.select(_ROW, *columns)
    within = pl.any_horizontal(
        pl.col(_ROW).is_between(int(first), int(last)) for first, last in _stretches(rows)
    )
    # The list of rows first: Polars' predicate pushdown keeps the conjuncts in a map keyed by
    # their hash and rehashes those already in it as the map grows; this one hashes each of
    # its row numbers on the way (a bench night's lines read: 0.138 -> 0.120 s so).
    return scan.filter(pl.col(_ROW).is_in(wanted) & within).drop(_ROW).collect()


# Rows not asked for past which the scan's filter is better told where the next rows asked
# for start: it then leaves the row groups between unread, where otherwise it tests every row
# number of them against the rows asked for (a bench night's lines: 0.18 → 0.08 s).
_GAP = 1 << 16
_MOST_STRETCHES = 64  # each is one more test per row


def _stretches(rows: np.ndarray) -> list[tuple[int, int]]:
    """The first and last of each stretch of the sorted `rows` that no gap wider than _GAP
    breaks (at most _MOST_STRETCHES: the widest gaps break them)."""
    gaps = np.diff(rows)
    breaks = np.flatnonzero(gaps > _GAP)
    if breaks.size >= _MOST_STRETCHES:
        breaks = np.sort(breaks[np.argsort(gaps[breaks])[-(_MOST_STRETCHES - 1) :]])
    firsts = np.concatenate([[0], breaks + 1])
    lasts = np.concatenate([breaks, [rows.size - 1]])
    return list(zip(rows[firsts].tolist(), rows[lasts].tolist(), strict=True))


_ROW = "_book_folder_row"  # a table's row number while rows are picked by it


def write_table(
    folder: Path, name: str, frame: pl.DataFrame, *, statistics: bool = False,
    row_group_size: int | None = None,
) -> None:  # fmt: skip
    """Write one table of a run as a single part."""
    target = folder / name
    target.mkdir(parents=True, exist_ok=True)
    # LZ4: about half zstd's write time on the run's critical path, and reads as fast.
    frame.write_parquet(target / "part-0.parquet", compression="lz4", statistics=statistics,
                        row_group_size=row_group_size)  # fmt: skip


def _jsonable(record: RunRecord) -> dict[str, Any]:
    document = asdict(record)
    document["as_of"] = record.as_of.isoformat()
    return document

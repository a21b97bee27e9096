"""What of a Parquet book's state is damaged or missing, file by file.

Before a run reads the state, `refuse_missing` makes sure the tables it cannot do without
are there (a few directory listings), and `plan_parts` that the plan of every run up to its
day is: read as empty, a previous full run's balances gone would give a night of wrong figures
without a word, a plan gone the escalation guards a history short. Once a run over the state has
failed, `named_damage` reads whole every file such a run reads, so that the error names the
files to restore, where otherwise it would be whatever Polars or numpy said of the first one
it tripped on (which names no file); a healthy night pays nothing for it. A run's state is
written whole and renamed into place before runs.json names it (BookFolder.commit), so a
file found damaged was changed after the run that wrote it: by a disk, a copy or a hand.
An engine that reads the book's inputs itself (Spark) names none of them when one is damaged
(a page overwritten: its footer reads, its data does not): `damaged_input` names it as the
local engine's own read of the part does.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from arrears.adapters.book_folder import (
    UNREADABLE,
    BookFolder,
    BookFolderError,
    RunRecord,
    part_files,
    said,
)
from arrears.adapters.book_tables import GIVEN
from arrears.adapters.paid_ids import PAID_FULL, PAID_NEW

# Kept only by runs that wrote them (a book begun before they were kept has none; its
# nights read the payments or the terms instead), so a run folder without them lacks nothing.
_OPTIONAL = frozenset({PAID_FULL, PAID_NEW, *GIVEN})
# Read from every run folder: every earlier plan (the escalation guards' history of actions
# done) and, by a night that reads the whole book, every run's settled lines.
_EVERY_RUN = ("plan", "settled_lines")
_SHOWN = 5  # problems an error names, before "and N more"

Expected = Callable[[RunRecord], Mapping[str, set[str]]]


class StateDamaged(BookFolderError):
    """The state a run starts from has files that cannot be read, or lacks some."""


def refuse_missing(folder: BookFolder, run: RunRecord, tables: Mapping[str, set[str]]) -> None:
    """StateDamaged when a run folder of `tables` (what the state after `run` is read from,
    per run folder) is gone, or one of its tables that every such run writes."""
    problems = _missing(folder, run, tables)
    if problems:
        raise StateDamaged(_message(folder, problems))


def plan_parts(folder: BookFolder, through: date) -> list[Path]:
    """The plans' parts of the runs up to `through` (the escalation guards' history: the
    actions done; a re-run of that day counts what its first run's plan carried out, as the
    database's outbox does), StateDamaged naming any run whose plan is gone: read as none,
    the guards would let a heavy action through whose gentler steps are on record."""
    parts, gone = [], []
    for record in folder.runs():
        if record.as_of <= through:
            found = part_files(folder.table_path(record, "plan"))
            parts += found
            if not found:
                gone.append(f"{record.folder}/plan/ is missing (the run of {record.as_of})")
    if gone:
        raise StateDamaged(_message(folder, gone))
    return parts


def named_damage(
    folder: BookFolder, run: RunRecord | None, expected: Expected, error: BaseException
) -> StateDamaged | None:
    """The error naming what of the state a run started from `run` reads is damaged or
    missing, when something is (`expected` names its state tables, per run folder; `error`
    is what the run failed with). None: nothing is (the failure was something else)."""
    problems = damage(folder, run, expected)
    if not problems:
        return None
    failed = f"the run failed with {_why(error)}"
    return StateDamaged(_message(folder, problems, failed))


def damage(folder: BookFolder, run: RunRecord | None, expected: Expected) -> list[str]:
    """What named_damage names, one problem a line."""
    state = folder.state
    runs = folder.runs()
    gone = {record.folder for record in runs if not (state / record.folder).is_dir()}
    problems = [_gone(record.folder, record.as_of) for record in runs if record.folder in gone]
    try:
        tables = dict(expected(run)) if run is not None else {}
    except Exception:  # noqa: BLE001 — what it reads is damaged: the reads below name it
        tables = {}
    problems += [
        f"{path.relative_to(state)} cannot be read ({reason})"
        for path in _read_by_a_run(state, runs, run, tables)
        if (reason := _unreadable(path)) is not None
    ]
    if run is not None:
        problems += _missing(folder, run, {o: n for o, n in tables.items() if o not in gone})
    return problems


def _message(folder: BookFolder, problems: list[str], failed: str = "") -> str:
    """The error's text: the problems (the first few), what to do, and what the run failed
    with, when it failed."""
    shown = "; ".join(problems[:_SHOWN])
    more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    cause = f" ({failed})" if failed else ""
    return (
        f"the state of the book {folder.root} is damaged: {shown}{more}. Restore "
        f"{folder.state} from a backup; this run committed nothing{cause}"
    )


def _missing(folder: BookFolder, run: RunRecord, tables: Mapping[str, set[str]]) -> list[str]:
    """The run folders of `tables` that are gone, and their tables every run writes that are."""
    state = folder.state
    gone = [owner for owner in sorted(tables) if not (state / owner).is_dir()]
    # runs.json read again only when a folder is gone (a healthy night has read it already).
    days = {record.folder: record.as_of for record in folder.runs()} if gone else {}
    return [_gone(owner, days.get(owner)) for owner in gone] + [
        f"{owner}/{name}/ is missing (the state after the run of {run.as_of} is read from it)"
        for owner, names in sorted(tables.items())
        if owner not in gone
        for name in sorted(set(names) - _OPTIONAL)
        if not _parts(state / owner / name)
    ]  # fmt: skip


def _gone(owner: str, day: date | None) -> str:
    """A run folder that is gone, named with its run's day when runs.json names it."""
    return f"{owner}/ (the run of {day}) is missing" if day else f"{owner}/ is missing"


def _read_by_a_run(
    state: Path, runs: list[RunRecord], run: RunRecord | None, tables: Mapping[str, set[str]]
) -> Iterator[Path]:
    """Every file a run started from `run` may read, in name order: the state tables of
    `tables`, every table of `run` and of any run after it (one a re-run replaces), and
    _EVERY_RUN's tables of every run. Old runs' other outputs are never read by a run."""
    wanted: dict[str, set[str] | None] = {}
    for record in runs:
        wanted[record.folder] = set(_EVERY_RUN)
    for owner, names in tables.items():
        known = wanted.setdefault(owner, set())
        if known is not None:
            known.update(names)
    for record in runs:
        if run is not None and record.as_of >= run.as_of:
            wanted[record.folder] = None  # every table
    for owner, asked in sorted(wanted.items()):
        if not (state / owner).is_dir():
            continue
        folders = sorted(p for p in (state / owner).iterdir() if p.is_dir())
        for table in folders if asked is None else [state / owner / n for n in sorted(asked)]:
            yield from _parts(table)


def _parts(table: Path) -> list[Path]:
    """A table folder's Parquet and numpy files (the payment ids), in name order."""
    return part_files(table, (".parquet", ".npy"))


def _unreadable(path: Path) -> str | None:
    """Why the file cannot be read whole, or None when it can."""
    try:
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        else:
            pl.read_parquet(path)
    except (Exception, pl.exceptions.PanicException) as error:  # noqa: BLE001
        # Whatever a damaged file makes the readers raise: numpy's header parser alone may
        # raise a tokenizer's error for a damaged header.
        return _why(error)
    return None


def _why(error: BaseException) -> str:
    """An error's kind and first line (its message alone: a tokenizer's error prints as a
    tuple of it and where)."""
    message = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
    lines = message.strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def damaged_input(
    folder: BookFolder, inputs: Iterable[str], error: BaseException
) -> BookFolderError | None:
    """The error naming the input part a failed run could not read, as the local engine
    names it ("input installments: installments/part-1.parquet: cannot read it: …"): the
    part the failure names (Spark's "error while reading file …"), else the first that
    Polars cannot read whole. None: every part reads (the failure was something else)."""
    text = str(error)
    parts = [(name, path) for name in inputs for path in folder.input_parts(name)]
    named = [(name, path) for name, path in parts if _names(text, path)]
    for name, path in [*named, *(part for part in parts if part not in named)]:
        try:
            pl.read_parquet(path)
        except UNREADABLE as failed:
            reason = said(failed)
        else:
            if (name, path) not in named:
                continue
            reason = _cause(text)  # read whole by Polars, but not by the engine that failed
        return BookFolderError(
            f"input {name}: {path.relative_to(folder.root)}: cannot read it: {reason}. Write "
            f"it again from its source; this run committed nothing"
        )
    return None


def _names(text: str, path: Path) -> bool:
    """Whether an error's text names the file (Spark names it by its URI)."""
    return path.as_uri() in text or f"file:{path}" in text


def _cause(text: str) -> str:
    """The deepest cause a JVM error's text gives ("Caused by: …"), else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by:").strip() for line in lines
              if line.startswith("Caused by:")]  # fmt: skip
    return (causes or lines or ["an error naming it"])[-1]

"""What of a Parquet book's state is damaged or missing, file by file.

Looked for only once a run over the state has failed, so a healthy night pays nothing for it:
the error then names the files to restore, where otherwise it would be whatever Polars or
numpy said of the first one it tripped on (which names no file). A run's state is written
whole and renamed into place before runs.json names it (book_folder.BookFolder.commit), so
a file found damaged was changed after the run that wrote it: by a disk, a copy or a hand.
"""

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import polars as pl

from arrears.adapters.book_folder import UNREADABLE, BookFolder, BookFolderError, RunRecord, said
from arrears.adapters.paid_ids import PAID_FULL, PAID_NEW

# Kept only by the runs that wrote them (a book begun before they were kept has none), so a
# run folder without them is not missing anything.
_OPTIONAL = frozenset({PAID_FULL, PAID_NEW})
_SHOWN = 5  # problems an error names, before "and N more"


class StateDamaged(BookFolderError):
    """The state a run starts from has files that cannot be read, or lacks some."""


def named_damage(
    folder: BookFolder,
    run: RunRecord | None,
    expected: Callable[[RunRecord], Mapping[str, set[str]]],
) -> StateDamaged | None:
    """The error naming what of the book's state is damaged, when something is: every file
    of every run folder that cannot be read, every folder runs.json names that is gone, and
    the state tables of `run` (the run a failed run started from; `expected` names them, per
    run folder) that are missing. None: nothing is (the failure was something else)."""
    problems = damage(folder, run, expected)
    if not problems:
        return None
    shown = "; ".join(problems[:_SHOWN])
    more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    return StateDamaged(
        f"the state of the book {folder.root} is damaged: {shown}{more}. Restore "
        f"{folder.state} from a backup (nothing was written: the book is as it was)"
    )


def damage(
    folder: BookFolder,
    run: RunRecord | None,
    expected: Callable[[RunRecord], Mapping[str, set[str]]],
) -> list[str]:
    """What named_damage names, one problem a line."""
    state = folder.state
    problems = [
        f"{record.folder}/ (the run of {record.as_of}) is missing"
        for record in folder.runs()
        if not (state / record.folder).is_dir()
    ]
    problems += [
        f"{path.relative_to(state)} cannot be read ({reason})"
        for path in _state_files(state)
        if (reason := _unreadable(path)) is not None
    ]
    if run is None or problems:
        return problems
    try:
        tables = expected(run)
    except Exception:  # noqa: BLE001 — what it reads is damaged in a way the reads above miss
        return problems
    return [
        f"{owner}/{name}/ is missing (the state after the run of {run.as_of} is read from it)"
        for owner, names in sorted(tables.items())
        for name in sorted(set(names) - _OPTIONAL)
        if not _parts(state / owner / name)
    ]


def _state_files(state: Path) -> Iterator[Path]:
    """Every Parquet and numpy file of every run folder, in name order (the hidden ones of
    runs killed while writing, and Spark's checksums and markers, left out)."""
    for run in sorted(state.glob("run-*")):
        for path in sorted(run.rglob("*")):
            if path.suffix in (".parquet", ".npy") and path.name[0] not in "._":
                yield path


def _parts(table: Path) -> list[Path]:
    """A table folder's part files (none when it is gone)."""
    if not table.is_dir():
        return []
    return [p for p in table.iterdir() if p.suffix in (".parquet", ".npy") and p.name[0] != "."]


def _unreadable(path: Path) -> str | None:
    """Why the file cannot be read whole, or None when it can."""
    try:
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        else:
            pl.read_parquet(path)
    except (*UNREADABLE, ValueError, EOFError) as error:
        return said(error)
    return None

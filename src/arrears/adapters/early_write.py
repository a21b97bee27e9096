"""What a night's run folder gets before save, on a thread of its own while the later steps
run: the worked loans' lines and the ledger's outputs once they are aged, the loan table's
rows once they are staged (parquet_store begins them through EngineStore.progress)."""

import secrets
import shutil
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from arrears.adapters.book_folder import write_table
from arrears.adapters.book_tables import ledger_outputs
from arrears.adapters.line_segments import (
    place_segment,
    settled_on,
    tail_totals,
    write_segment,
    write_settled,
)
from arrears.batch.book import Book
from arrears.batch.ledger_arrays import day_numbers, loan_positions
from arrears.batch.pipeline import RunFrames

_NEVER = int(np.iinfo(np.int32).max)  # no such day (a loan that never wakes by itself)

Spans = dict[str, np.ndarray]  # per worked loan: where its active lines now are
Tails = dict[str, pl.Series]  # per worked loan: what its new tail adds up to


@dataclass
class EarlyWrite:
    """What is final before save, written into the run's folder on a thread of its own while
    the later steps run, from the frames it was begun with: once the worked loans are aged,
    their lines, then the ledger's outputs (postings, loans rebuilt); once they are staged,
    the loan table's rows (which say where the lines are)."""

    folder: Path
    name: str  # the run's folder once committed (the lines' segment is named by it)
    begun: tuple[object, ...]  # the frames' book, summaries, postings and loans rebuilt
    pool: ThreadPoolExecutor
    lines: "Future[tuple[Spans, Tails]]"
    ledger: "Future[None]"
    # The loan table, once the stages ran (then the rows are final), and its frames.
    table: "Future[tuple[bool, dict[str, set[str]]]] | None" = None
    table_begun: tuple[object, ...] = ()

    @classmethod
    def begin(cls, folder: Path, frames: RunFrames, as_of: date) -> "EarlyWrite":
        """Start writing the lines and ledger outputs of `frames` (aged: summaries known)."""
        assert frames.summaries is not None, "the ageing step ran"
        pool = ThreadPoolExecutor(max_workers=1)
        lines = pool.submit(write_lines, folder, frames.book, frames.summaries, as_of)
        ledger = pool.submit(lambda: write_tables(folder, ledger_outputs(frames)))
        name = f"run-{as_of}-{secrets.token_hex(4)}"
        return cls(folder, name, _written_from(frames), pool, lines, ledger)

    def holds(self, frames: RunFrames) -> bool:
        """Whether these are the lines and postings of `frames` (no step after ageing
        replaced them)."""
        return _same(_written_from(frames), self.begun)

    def begin_table(
        self, frames: RunFrames, write: Callable[[RunFrames], tuple[bool, dict[str, set[str]]]]
    ) -> None:
        """Queue the loan table's write of `frames` (staged) after the lines."""
        self.table_begun = _table_from(frames)
        self.table = self.pool.submit(write, frames)

    def table_of(self, frames: RunFrames) -> "Future[tuple[bool, dict[str, set[str]]]] | None":
        """The loan table's write begun for `frames`, if one was."""
        return self.table if _same(_table_from(frames), self.table_begun) else None

    def drop_table(self) -> None:
        """Wait for a loan table begun, if any, and forget it (whether or not it failed)."""
        if self.table is not None:
            wait([self.table])
        self.table = None

    def lines_written(self) -> tuple[Spans, Tails]:
        """Wait for the lines: where each loan's lines are, and what its new tail adds up to."""
        return self.lines.result()

    def finish(self) -> None:
        """Wait for the ledger's outputs too."""
        try:
            self.ledger.result()
        finally:
            self.pool.shutdown()

    def abandon(self) -> None:
        """Wait for the writes, then drop their folder (a run that failed after they began)."""
        self.pool.shutdown(wait=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def _written_from(frames: RunFrames) -> tuple[object, ...]:
    """The frames an early write is made from (the ledger's and the ageing's)."""
    return frames.book, frames.summaries, frames.postings, frames.replay


def _same(these: tuple[object, ...], those: tuple[object, ...]) -> bool:
    """Whether two tuples of frames hold the very same objects (none replaced)."""
    return len(these) == len(those) and all(a is b for a, b in zip(these, those, strict=True))


def _table_from(frames: RunFrames) -> tuple[object, ...]:
    """The frames the loan table's rows are made from."""
    return (*_written_from(frames), frames.cases, frames.applied, frames.applied_loans)


def write_lines(
    folder: Path, book: Book, summaries: pl.DataFrame, as_of: date
) -> tuple[Spans, Tails]:
    """Write the worked loans' lines (`book`'s, aged: `summaries`) into a run's folder: the
    active ones as tonight's segment, the settled ones apart; where each loan's lines are
    and what its new tail adds up to."""
    lines = book.instalments
    # Known once the ledger advanced the book; looked up when there was nothing to run.
    li = loan_positions(book.loans, lines, book.line_loans)
    settled = lines.select(settled_on(as_of)).to_series()
    mine = worked_summaries(summaries, book.loans)
    active = np.flatnonzero(~settled.to_numpy())
    wake = day_numbers(mine.get_column("wake_on"), _NEVER)
    resting = (mine.get_column("daily_penalty") > 0).to_numpy()
    placed, placed_li, spans = place_segment(lines, active, li[active], wake, resting, as_of)
    write_segment(folder, placed)
    write_settled(folder, lines.filter(settled))
    return spans, tail_totals(placed, placed_li, mine.height, as_of)


def write_tables(folder: Path, tables: Mapping[str, pl.DataFrame]) -> None:
    """Write output tables into a run's folder (the plan with statistics: read by key)."""
    for name, frame in tables.items():
        write_table(folder, name, frame, statistics=name == "plan")


def worked_summaries(summaries: pl.DataFrame, worked: pl.DataFrame) -> pl.DataFrame:
    """The summaries of the loans worked tonight (the pipeline's summaries are theirs)."""
    if not summaries.get_column("loan_id").equals(worked.get_column("loan_id")):
        raise ValueError("tonight's summaries are not the worked loans'")
    return summaries

"""The loan table of a Parquet book's state: one row a loan, in loan_id order.

It holds what a night needs of every loan without reading its instalments: the loan's terms
(as the engine's integer columns), its running totals, its last summary (ageing.py: the day
it must next be worked), its case, where its instalment lines are, and the payments it has
applied (to notice back-dated ones). A `base` run writes every row; a `delta` run only the
rows that changed, each with its position in the base (`at`): the table of a run is its
latest base with the deltas since laid over it in order. Rows are found by position (the
table is in loan_id order), never by a join: a join of a million rows costs a tenth of a
second here, a gather or scatter a hundredth.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from arrears.adapters.book_folder import part_files, read_rows
from arrears.batch.ageing import SUMMARY_SCHEMA
from arrears.batch.book import LOAN_SCHEMA, TAIL_SCHEMA
from arrears.batch.grouped import distinct

# Repeated texts are kept as categories: a million copies of a legal source would be 200 MB.
_CATEGORY = pl.Categorical()
STATIC = pl.Schema(
    {name: (_CATEGORY if name in ("product", "cap_rule", "cap_source", "loan_segment", "currency")
            else dtype)
     for name, dtype in LOAN_SCHEMA.items()
     if name not in ("state_date", "charged", "principal_days", "credit", "late_fees_charged")}
)  # fmt: skip
CASE = pl.Schema({
    "stage": _CATEGORY, "entered_on": pl.Date(), "reason": _CATEGORY, "ladder": _CATEGORY,
    "arm": _CATEGORY,
})  # fmt: skip
DYNAMIC = pl.Schema({
    "state_date": pl.Date(), "charged": pl.Int64(), "principal_days": pl.Int64(),
    "credit": pl.Int64(), "late_fees_charged": pl.Int64(),
    **SUMMARY_SCHEMA, "summary_day": pl.Date(),
    **CASE,
    # The run folder holding the loan's active lines fallen due (and, when its tail stayed in
    # place, the lines not yet due it worked that night: those its money reached).
    "segment": _CATEGORY,
    "seg_row": pl.Int64(), "seg_rows": pl.Int64(),  # where in that folder's segment
    # Its lines not yet due when last written (book.TAIL_SCHEMA: what they add up to), read
    # again only when one falls due or money arrives; often right after the others.
    "tail_segment": _CATEGORY, "tail_row": pl.Int64(), "tail_rows": pl.Int64(),
    **TAIL_SCHEMA,
    "lines_since": pl.Date(),  # settled lines of runs before this day are not the loan's
    "payments_seen": pl.Int64(), "payments_sum": pl.Int64(),  # paid up to state_date
    "payments_print": pl.Int64(),  # and their prints added up (paid_ids.payment_prints)
})  # fmt: skip
SCHEMA = pl.Schema({**STATIC, **DYNAMIC})
TABLE = "loans"
Positions = npt.NDArray[np.int64]


# The columns a night reads for every loan: whose it is, when it next wakes, its case and
# where its lines are. The others it reads only for the loans it works (`ChainTable.picking`):
# decoding all 52 columns of a million rows took the bench night's peak memory to 1.43 GB,
# against 1.22 GB for these and the columns used of the worked rows (docs/PERFORMANCE.md).
# Whose loan it is, its product and the bucket's grace, and its currency (the summary's).
OWNERS = ("loan_id", "borrower_id", "product", "grace_days", "currency")
_IDS = ("loan_id", "borrower_id")
# A resting loan's last summary tells its bucket and penalty on the night (`oldest`,
# `daily_penalty`): the run's summary counts them.
EVERY_LOAN = ("wake_on", "oldest", "daily_penalty", *CASE, "segment", "tail_segment")


@dataclass(frozen=True)
class ChainTable:
    """The loan table of a chain (a base and the deltas since), laid over where a night reads
    it: `frame` holds every loan's OWNERS and EVERY_LOAN columns as they now are; `rows` gives
    any columns of some loans (read from the base's files, or from the rows `picking` read);
    `whole` the whole table (a base night, a view). Laying every delta over all 35 changing
    columns of a million rows costs a night 0.1 s a delta in the chain; over the few read for
    every loan, a fraction of it."""

    parts: list[Path]  # the base's files
    laid: pl.DataFrame  # the deltas' rows, in the chain's order
    # Per loan: the row of `laid` that last wrote it (-1: none did); none at all when the
    # chain is its base alone (a million -1s cost a fresh night 4 ms for nothing).
    latest: Positions
    frame: pl.DataFrame
    picked_at: Positions = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    picked: pl.DataFrame = field(default_factory=pl.DataFrame)  # their base rows

    def picking(self, at: Positions, columns: Sequence[str]) -> "ChainTable":
        """This table with `columns` of the base rows at positions `at` read at once (the
        loans a night works: `rows` then takes them from memory)."""
        wanted = distinct(at)
        stored = [name for name in dict.fromkeys(columns) if name not in self.frame.columns]
        return replace(self, picked_at=wanted, picked=_read_rows(self.parts, wanted, stored))

    def rows(self, at: Positions, columns: Sequence[str]) -> pl.DataFrame:
        """Some columns of the loans at positions `at`, as they now are."""
        laid = [name for name in columns if name in self.frame.columns]
        stored = [name for name in columns if name not in self.frame.columns]
        if not stored:
            return self.frame.select(laid)[at]
        picked = self._base_rows(at, stored)
        changing = [name for name in stored if name in DYNAMIC]
        hit = np.flatnonzero(self.latest[at] >= 0) if self.laid.height else at[:0]
        if hit.size and changing:
            newer = self.laid.select(changing)[self.latest[at][hit]]
            picked = picked.with_columns(
                picked.get_column(n).clone().scatter(hit, newer.get_column(n).cast(DYNAMIC[n]))
                for n in changing
            )
        if laid:
            picked = pl.concat([picked, self.frame.select(laid)[at]], how="horizontal")
        return picked.select(columns)

    def whole(self) -> pl.DataFrame:
        """Every column of every loan, as they now are."""
        base = _read(self.parts)
        if not self.laid.height:
            return base
        rows = np.flatnonzero(self.latest >= 0)
        return scatter_rows(base, rows, self.laid[self.latest[rows]]) if rows.size else base

    def _base_rows(self, at: Positions, columns: Sequence[str]) -> pl.DataFrame:
        """Columns of the base rows at positions `at`, from those picked when they hold them
        all, else read."""
        known = self.picked_at
        slot = np.searchsorted(known, at)
        held = set(columns) <= set(self.picked.columns)
        if held and known.size and (slot < known.size).all() and (known[slot] == at).all():
            picked = self.picked.select(columns)
            # Asked for the very rows picked (a night's worked loans, as they mostly are):
            # no gather, which copied every column of them (20-40 ms a bench night).
            return picked if np.array_equal(at, known) else picked[slot]
        wanted, order = np.unique(at, return_inverse=True)
        return _read_rows(self.parts, wanted, columns)[order]


def read_chain(state: Path, chain: Sequence[str]) -> ChainTable:
    """The table of the last run of `chain` (run folders, its base first): every loan's
    OWNERS and EVERY_LOAN columns read, the others read when asked for."""
    parts = part_files(state / chain[0] / TABLE)
    every = _read(parts, [*OWNERS, *EVERY_LOAN])
    # The ids in one chunk each (the base's row groups come as as many chunks): a gather or
    # bisection over many chunks copies them into one first, and a night does several (the
    # payments' loans, the worked rows, the cases with treatments due). Both at once: a
    # frame's rechunk copies its columns side by side (a bench night's 24 -> 13-19 ms).
    every = every.with_columns(every.select(_IDS).rechunk())
    if len(chain) == 1:
        none = pl.DataFrame(schema={"at": pl.UInt32, **DYNAMIC})
        return ChainTable(parts, none, np.zeros(0, dtype=np.int64), every)
    laid = pl.concat([_read(part_files(state / folder / TABLE)) for folder in chain[1:]])
    # The last delta naming a loan wins: the highest index among its rows.
    latest = np.full(every.height, -1, dtype=np.int64)
    np.maximum.at(latest, laid.get_column("at").to_numpy(), np.arange(laid.height))
    rows = np.flatnonzero(latest >= 0)
    if rows.size:
        every = scatter_rows(every, rows, laid.select(EVERY_LOAN)[latest[rows]])
    return ChainTable(parts, laid, latest, every)


def read_loan_table(state: Path, chain: Sequence[str]) -> pl.DataFrame:
    """The whole table of the last run of `chain` (run folders, its base first)."""
    return read_chain(state, chain).whole()


def scatter_rows(table: pl.DataFrame, at: Positions, rows: pl.DataFrame) -> pl.DataFrame:
    """The table with the dynamic columns that `rows` has written at positions `at`."""
    return table.with_columns(
        table.get_column(name).clone().scatter(at, rows.get_column(name).cast(DYNAMIC[name]))
        for name in DYNAMIC
        if name in rows.columns
    )


def positions(ids: pl.Series, wanted: pl.Series) -> Positions:
    """Where each of `wanted` is among the sorted `ids` (-1: not there)."""
    if ids.len() == 0:
        return np.full(wanted.len(), -1, dtype=np.int64)
    found = ids.search_sorted(wanted, side="left").cast(pl.Int64).clip(upper_bound=ids.len() - 1)
    hit = (ids.gather(found) == wanted.cast(ids.dtype)).fill_null(False).to_numpy()
    return np.where(hit, found.to_numpy(), -1)


def rolled(table: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Loan balances on as_of: a resting loan's days since its state date each add its
    outstanding principal to the allowance and its daily penalty to what it was charged."""
    days = (pl.lit(as_of) - pl.col("state_date")).dt.total_days()
    return table.with_columns(
        (pl.col("principal_days") + pl.col("outstanding_principal") * days).alias("principal_days"),
        (pl.col("charged") + pl.col("daily_penalty") * days).alias("charged"),
        pl.lit(as_of).alias("state_date"),
    )


def write_loan_table(folder: Path, frame: pl.DataFrame) -> None:
    """Write a base (every column) or a delta (`at` and the dynamic columns)."""
    target = folder / TABLE
    target.mkdir(parents=True, exist_ok=True)
    typed = frame.cast({n: t for n, t in SCHEMA.items() if n in frame.columns})
    typed.write_parquet(target / "part-0.parquet", compression="lz4", statistics=False)


def _read(parts: list[Path], columns: Sequence[str] | None = None) -> pl.DataFrame:
    """A table's parts: `columns` of them, or every column they hold (a delta's are `at` and
    the changing ones)."""
    if not parts:
        return pl.DataFrame(schema=SCHEMA).select(list(SCHEMA) if columns is None else columns)
    have = pl.read_parquet_schema(parts[0])
    if columns is None:
        columns = [n for n in ("at", *SCHEMA) if n in have or n in _ADDED]
    return _added(pl.read_parquet(parts, columns=[n for n in columns if n in have]), columns)


# Columns added since an earlier version wrote a table, and their value in its rows: before
# the first, no loan rested past due (a loan past due was worked every night); before the
# second, the table kept no currency (the loans input's was not read): a night over such a
# table reads the whole book once when the loans name theirs (ParquetEngineStore._load_night);
# before the third, no print of the payments (unknown: their count and sum alone are compared);
# before the fourth, no product had a limit on total charges (one set since changes the
# rules' fingerprint, so the night reads the whole book, and the loans whose stored limit is
# not the one priced now are run again: book_tables.given_otherwise); before the fifth, no
# product had a limit on late fees (the same), and the late fees a loan was charged were not
# counted: none is a limit's until one is set, which runs its product's loans again.
_ADDED = {"daily_penalty": pl.lit(0, pl.Int64), "currency": pl.lit(None, _CATEGORY),
          "payments_print": pl.lit(None, pl.Int64),
          "cap_total": pl.lit(None, pl.Int64), "late_fee_total": pl.lit(None, pl.Int64),
          "late_fees_charged": pl.lit(0, pl.Int64)}  # fmt: skip


def _added(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`frame` with the `columns` it lacks that _ADDED knows, in the order of `columns`."""
    if all(name in frame.columns for name in columns):
        return frame.select(columns)
    return frame.with_columns(
        _ADDED[name].alias(name) for name in columns if name not in frame.columns
    ).select(columns)


def _read_rows(parts: list[Path], at: Positions, columns: Sequence[str]) -> pl.DataFrame:
    """`columns` of the base rows at positions `at` (sorted, distinct; none: an empty frame)."""
    if not parts or not at.size:
        return pl.DataFrame(schema=SCHEMA).select(list(columns))
    have = pl.read_parquet_schema(parts[0])
    return _added(read_rows(parts, at, [n for n in columns if n in have]), columns)

"""Where a Parquet book keeps its instalment lines: segments of active lines, tables of settled.

A run writes the lines of the loans it worked: those still open into its segment
(`instalment_states`), ordered by the day each loan must next be worked so that a later
night finds the loans it wakes side by side, in few row groups; those fully settled into its
`settled_lines`, never read by a night again (nothing can change them), only by full views.
The loan table says where each loan's active lines are (segment, first row, count) and from
which day its settled lines count (a loan rebuilt from its contract date starts afresh).
"""

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from arrears.adapters.book_folder import part_files, read_rows
from arrears.batch.book import INSTALMENT_SCHEMA
from arrears.batch.grouped import Ints, group_starts, mins_by_key, sums_by_key
from arrears.batch.ledger_arrays import day_number

SEGMENT = "instalment_states"
SETTLED = "settled_lines"
ROW_GROUP = 16_384  # rows a night decodes at least to reach one loan of a segment
_NEVER = int(np.iinfo(np.int32).max)  # no such day


def settled_on(as_of: date) -> pl.Expr:
    """Lines that nothing can change any more: fallen due by `as_of`, every part paid, no
    penalty waiting out grace, not even days of it that came to nothing (the ledger clears
    those the next day money comes to the loan: ledger_kernel._open); the ledger and the
    summaries never read such a line again."""
    paid_up = (
        (pl.col("principal_due") == pl.col("paid_principal"))
        & (pl.col("interest_charged") == pl.col("paid_interest"))
        & (pl.col("fees_charged") == pl.col("paid_fees"))
        & (pl.col("penalty_charged") == pl.col("paid_penalty"))
    )
    # A pending penalty always has its days counted (ledger_kernel._accrue adds both).
    return (pl.col("due_date") <= as_of) & paid_up & (pl.col("pending_days") == 0)


def place_segment(
    lines: pl.DataFrame, rows: Ints, li: Ints, wake: Ints, resting: np.ndarray, as_of: date
) -> tuple[pl.DataFrame, Ints, dict[str, Ints]]:
    """The active `rows` of `lines` (each loan's together, in due order; `li`: each one's loan
    position) put in their loan's wake order (`wake`: per loan, its wake day, _NEVER last), the
    loans resting past due (`resting`) after all others: the placed lines, each one's loan
    position, and per loan where its lines fallen due by `as_of` are (seg_row, seg_rows) and,
    right after them, its lines not yet due (tail_row, tail_rows); 0 for a loan without
    active lines. The lines are gathered once, from `lines` (filtered first, they were copied
    twice: 30 MB more a bench night).

    A night reads the loans that wake and those money arrives for. Money comes mostly on or
    near a due date (then the loan wakes soon: near the front), else for a loan past due: kept
    together, the few of those paid on a night reach few row groups, where spread among the
    others by wake day they reached most of them (docs/PERFORMANCE.md). The sort is stable:
    loans that wake together keep the order they came in (most of a night's loans wake
    tomorrow and came in first, so the lines mostly stay where they are)."""
    starts = group_starts(li)
    counts = np.diff(np.append(starts, li.size))
    loans = li[starts]
    due = lines.get_column("due_date").to_physical().to_numpy()[rows]
    heads = (
        np.add.reduceat((due <= day_number(as_of)).astype(np.int64), starts) if li.size else counts
    )
    runs = np.lexsort((wake[loans], resting[loans]))  # stable: by resting, then wake day
    counts, starts, loans, heads = counts[runs], starts[runs], loans[runs], heads[runs]
    placed_at = np.cumsum(counts) - counts
    order = np.repeat(starts - placed_at, counts) + np.arange(li.size)
    spans = {name: np.zeros(wake.size, dtype=np.int64)
             for name in ("seg_row", "seg_rows", "tail_row", "tail_rows")}  # fmt: skip
    spans["seg_row"][loans] = placed_at
    spans["seg_rows"][loans] = heads
    spans["tail_row"][loans] = placed_at + heads
    spans["tail_rows"][loans] = counts - heads
    return lines[rows[order]], li[order], spans


# What a line not yet due owes (its interest and fees as scheduled: none is charged yet).
OWED_AHEAD = (
    pl.col("principal_due") - pl.col("paid_principal") + pl.col("interest_due")
    - pl.col("paid_interest") + pl.col("fee_due") - pl.col("paid_fees")
    + pl.col("penalty_charged") - pl.col("paid_penalty")
)  # fmt: skip


def tail_totals(
    active: pl.DataFrame, li: np.ndarray, loans: int, as_of: date
) -> dict[str, pl.Series]:
    """What each loan's active lines not yet due add up to (book.TAIL_SCHEMA), per loan
    position (`li`: each line's, each loan's lines together; a loan without such lines: 0,
    False and no dates)."""
    c = active.select(
        (pl.col("due_date") > as_of).alias("future"),
        pl.col("due_date").to_physical().cast(pl.Int64).alias("due"),
        (pl.col("principal_due") - pl.col("paid_principal")).alias("principal"),
        (pl.col("penalty_charged") - pl.col("paid_penalty")).alias("penalty"),
        OWED_AHEAD.alias("owed"),
    )
    n = {name: c.get_column(name).to_numpy() for name in c.columns}
    future = n["future"]
    return totals_of(li[future], n["due"][future], n["principal"][future],
                     n["penalty"][future], n["owed"][future], loans)  # fmt: skip


def totals_of(
    keys: np.ndarray, due: Ints, principal: Ints, penalty: Ints, owed: Ints, loans: int
) -> dict[str, pl.Series]:
    """book.TAIL_SCHEMA per loan position 0..loans-1 of lines not yet due (`keys`: each
    line's loan, grouped; `due` as day numbers, and what each still owes)."""

    starts = group_starts(keys)

    def total(values: np.ndarray) -> np.ndarray:
        return sums_by_key(keys, values.astype(np.int64), loans, starts)

    def least(where: np.ndarray) -> pl.Series:
        days = mins_by_key(keys, np.where(where, due, _NEVER), loans, _NEVER, starts)
        series = pl.Series(days, dtype=pl.Int64)
        return series.set(series == _NEVER, None).cast(pl.Int32).cast(pl.Date)

    owing = owed > 0
    return {
        "tail_principal": pl.Series(total(principal)),
        "tail_penalty": pl.Series(total(penalty)),
        "tail_open": pl.Series(total(owing) > 0),
        "tail_next_due": least(owing),
        "tail_first_due": least(np.ones(keys.size, dtype=np.bool_)),
    }


def write_segment(folder: Path, lines: pl.DataFrame) -> None:
    """Write a segment of placed lines (place_segment) in row groups a night can pick."""
    target = folder / SEGMENT
    target.mkdir(parents=True, exist_ok=True)
    lines.write_parquet(target / "part-0.parquet", compression="lz4", statistics=False,
                        row_group_size=ROW_GROUP)  # fmt: skip


def write_settled(folder: Path, lines: pl.DataFrame) -> None:
    """Write the lines that settled in this run (or, for loans built afresh, ever)."""
    target = folder / SETTLED
    target.mkdir(parents=True, exist_ok=True)
    lines.write_parquet(target / "part-0.parquet", compression="lz4", statistics=False)


def read_lines(
    state: Path, ranges: pl.DataFrame, columns: Sequence[str] = tuple(INSTALMENT_SCHEMA)
) -> tuple[pl.DataFrame, np.ndarray]:
    """`columns` of rows of segments (`ranges`: segment, first, count, key; the ranges of a
    segment do not overlap), each range's rows together and in order, building from each
    segment only the rows asked for; and the key of each row's range."""
    schema = pl.Schema({name: INSTALMENT_SCHEMA[name] for name in columns})
    ranges = ranges.filter(pl.col("count") > 0)
    found, keys = [], []
    for (segment,), group in ranges.group_by("segment", maintain_order=True):
        group = group.sort("first")
        count = group.get_column("count").to_numpy()
        rows = _expand(group.get_column("first").to_numpy(), count)
        found.append(read_rows(part_files(state / str(segment) / SEGMENT), rows, list(schema)))
        keys.append(np.repeat(group.get_column("key").to_numpy(), count))
    if not found:
        return pl.DataFrame(schema=schema), np.zeros(0, dtype=np.int64)
    lines = pl.concat(found, how="vertical_relaxed")
    return lines.select(list(schema)).cast(schema), np.concatenate(keys)


def _expand(first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The row numbers first[i] .. first[i] + count[i] - 1, for every i, in order."""
    within = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    rows: np.ndarray = np.repeat(first, count) + within
    return rows


def read_all_lines(state: Path, table: pl.DataFrame, runs: Mapping[str, date]) -> pl.DataFrame:
    """Every line of every loan of `table` (active and settled), in loan, due, seq order;
    `runs` gives the day of each run folder (settled lines count from a loan's lines_since)."""
    heads = table.select("segment", pl.col("seg_row").alias("first"),
                         pl.col("seg_rows").alias("count"), pl.lit(0).alias("key"))  # fmt: skip
    tails = table.select(pl.col("tail_segment").alias("segment"), pl.col("tail_row").alias("first"),
                         pl.col("tail_rows").alias("count"), pl.lit(0).alias("key"))  # fmt: skip
    active, _ = read_lines(state, pl.concat([heads, tails]).filter(pl.col("segment").is_not_null()))
    settled = [
        pl.read_parquet(part_files(state / folder / SETTLED)).with_columns(
            pl.lit(day).alias("_run")
        )
        for folder, day in runs.items()
        if part_files(state / folder / SETTLED)
    ]
    if settled:
        since = table.select("loan_id", "lines_since")
        kept = (
            pl.concat(settled, how="vertical_relaxed")
            .join(since, on="loan_id", how="inner")
            .filter(pl.col("_run") >= pl.col("lines_since"))
            .select(list(INSTALMENT_SCHEMA))
        )
        active = pl.concat([active, kept.cast(INSTALMENT_SCHEMA)])
    return active.sort("loan_id", "due_date", "seq")

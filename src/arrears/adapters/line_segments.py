"""Where a Parquet book keeps its instalment lines: segments of active lines, tables of settled.

A run writes the lines of the loans it worked: those still open into its segment
(`instalment_states`), ordered by the day each loan must next be worked so that a later
night finds the loans it wakes side by side, in few row groups; those fully settled into its
`settled_lines`, never read by a night again (nothing can change them), only by full views.
The loan table says where each loan's active lines are (segment, first row, count) and from
which day its settled lines count (a loan rebuilt from its contract date starts afresh).
"""

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from arrears.adapters.book_folder import part_files
from arrears.batch.book import INSTALMENT_SCHEMA

SEGMENT = "instalment_states"
SETTLED = "settled_lines"
ROW_GROUP = 16_384  # rows a night decodes at least to reach one loan of a segment
UNPAID = (
    (pl.col("principal_due") - pl.col("paid_principal"))
    + (pl.col("interest_charged") - pl.col("paid_interest"))
    + (pl.col("fees_charged") - pl.col("paid_fees"))
    + (pl.col("penalty_charged") - pl.col("paid_penalty"))
)


def settled_on(as_of: date) -> pl.Expr:
    """Lines that nothing can change any more: fallen due by `as_of`, every part paid, no
    penalty waiting out grace (the ledger and the summaries never read such a line again)."""
    paid_up = (
        (pl.col("principal_due") == pl.col("paid_principal"))
        & (pl.col("interest_charged") == pl.col("paid_interest"))
        & (pl.col("fees_charged") == pl.col("paid_fees"))
        & (pl.col("penalty_charged") == pl.col("paid_penalty"))
    )
    return (pl.col("due_date") <= as_of) & paid_up & (pl.col("pending") == 0)


def write_segment(folder: Path, lines: pl.DataFrame, wake: pl.DataFrame) -> pl.DataFrame:
    """Write active lines (in loan, due, seq order) ordered by their loan's `wake_on` (`wake`:
    loan_id, wake_on); each loan's first row and row count in the segment."""
    runs = lines.get_column("loan_id").rle()
    spans = pl.DataFrame(
        {"loan_id": runs.struct.field("value"), "seg_rows": runs.struct.field("len")}
    ).with_columns(pl.col("seg_rows").cast(pl.Int64))
    spans = spans.with_columns((pl.col("seg_rows").cum_sum() - pl.col("seg_rows")).alias("old"))
    spans = spans.join(wake, on="loan_id", how="left", maintain_order="left").sort(
        "wake_on", "loan_id", nulls_last=True
    )
    counts = spans.get_column("seg_rows").to_numpy()
    starts = np.cumsum(counts) - counts
    order = np.repeat(spans.get_column("old").to_numpy() - starts, counts) + np.arange(counts.sum())
    target = folder / SEGMENT
    target.mkdir(parents=True, exist_ok=True)
    lines[order].write_parquet(target / "part-0.parquet", compression="lz4", statistics=False,
                               row_group_size=ROW_GROUP)  # fmt: skip
    return spans.select("loan_id", pl.Series("seg_row", starts, pl.Int64), "seg_rows")


def write_settled(folder: Path, lines: pl.DataFrame) -> None:
    """Write the lines that settled in this run (or, for loans built afresh, ever)."""
    target = folder / SETTLED
    target.mkdir(parents=True, exist_ok=True)
    lines.write_parquet(target / "part-0.parquet", compression="lz4", statistics=False)


def read_lines(state: Path, where: pl.DataFrame) -> pl.DataFrame:
    """The active lines of the loans in `where` (segment, seg_row, seg_rows; in loan order),
    in that order, reading from each segment only the row groups that hold them."""
    where = where.with_row_index("k").filter(pl.col("seg_rows") > 0)
    frames, keys, positions = [], [], []
    total = 0
    for (segment,), group in where.group_by("segment", maintain_order=True):
        count = group.get_column("seg_rows").to_numpy()
        rows = _expand(group.get_column("seg_row").to_numpy(), count)
        frame, local = _read_rows(state / str(segment) / SEGMENT, rows)
        frames.append(frame)
        keys.append(np.repeat(group.get_column("k").to_numpy(), count))
        positions.append(local + total)
        total += frame.height
    if not frames:
        return pl.DataFrame(schema=INSTALMENT_SCHEMA)
    order = np.concatenate(positions)[np.argsort(np.concatenate(keys), kind="stable")]
    lines = pl.concat(frames, how="vertical_relaxed")[order]
    return lines.select(list(INSTALMENT_SCHEMA)).cast(INSTALMENT_SCHEMA)


def _expand(first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The row numbers first[i] .. first[i] + count[i] - 1, for every i, in order."""
    within = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    rows: np.ndarray = np.repeat(first, count) + within
    return rows


def _read_rows(folder: Path, rows: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """The row groups of a segment that hold `rows`, and where each of `rows` is in them."""
    [path] = part_files(folder)
    handle = pq.ParquetFile(path)
    sizes = np.array(
        [handle.metadata.row_group(i).num_rows for i in range(handle.num_row_groups)],
        dtype=np.int64,
    )
    starts = np.cumsum(sizes) - sizes
    group = np.searchsorted(starts, rows, side="right") - 1
    groups = np.unique(group)
    read_starts = np.cumsum(sizes[groups]) - sizes[groups]
    slot = np.searchsorted(groups, group)
    local = read_starts[slot] + (rows - starts[group])
    frame = pl.from_arrow(handle.read_row_groups(groups.tolist()))
    assert isinstance(frame, pl.DataFrame)
    return frame, local


def read_all_lines(state: Path, table: pl.DataFrame, runs: Mapping[str, date]) -> pl.DataFrame:
    """Every line of every loan of `table` (active and settled), in loan, due, seq order;
    `runs` gives the day of each run folder (settled lines count from a loan's lines_since)."""
    active = read_lines(state, table.select("segment", "seg_row", "seg_rows"))
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

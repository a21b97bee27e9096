"""The loan table of a Parquet book's state: one row a loan, in loan_id order.

It holds what a night needs of every loan without reading its instalments: the loan's terms
(as the engine's integer columns), its running totals, its last summary (ageing.py: the day
it must next be worked), its case, where its instalment lines are, and the payments it has
applied (to notice back-dated ones). A `base` run writes every row; a `delta` run only the
rows that changed, each with its position in the base (`at`): the table of a run is its
latest base with the deltas since laid over it in order.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from arrears.adapters.book_folder import part_files
from arrears.batch.ageing import SUMMARY_SCHEMA
from arrears.batch.book import LOAN_SCHEMA

STATIC = pl.Schema(
    {name: dtype for name, dtype in LOAN_SCHEMA.items()
     if name not in ("state_date", "charged", "principal_days", "credit")}
)  # fmt: skip
DYNAMIC = pl.Schema({
    "state_date": pl.Date(), "charged": pl.Int64(), "principal_days": pl.Int64(),
    "credit": pl.Int64(),
    **SUMMARY_SCHEMA, "summary_day": pl.Date(),
    "stage": pl.String(), "entered_on": pl.Date(), "reason": pl.String(), "ladder": pl.String(),
    "arm": pl.String(),
    "segment": pl.String(),  # the run folder holding the loan's active lines
    "seg_row": pl.Int64(), "seg_rows": pl.Int64(),  # where in that folder's segment
    "lines_since": pl.Date(),  # settled lines of runs before this day are not the loan's
    "payments_seen": pl.Int64(), "payments_sum": pl.Int64(),  # paid up to state_date
})  # fmt: skip
SCHEMA = pl.Schema({**STATIC, **DYNAMIC})
TABLE = "loans"


def read_loan_table(state: Path, chain: Sequence[str]) -> pl.DataFrame:
    """The table of the last run of `chain` (run folders, its base first)."""
    base = _read(state / chain[0] / TABLE)
    if len(chain) == 1:
        return base
    deltas = [_read(state / folder / TABLE) for folder in chain[1:]]
    laid = pl.concat([d.select("at", *DYNAMIC) for d in deltas])
    at = laid.get_column("at").to_numpy()
    # The last delta naming a loan wins: the highest index among its rows.
    latest = np.full(base.height, -1, dtype=np.int64)
    np.maximum.at(latest, at, np.arange(at.size))
    rows = np.flatnonzero(latest >= 0)
    newer = laid[latest[rows]]
    return base.with_columns(
        base.get_column(name).scatter(rows, newer.get_column(name)) for name in DYNAMIC
    )


def delta_rows(table: pl.DataFrame, before: pl.DataFrame) -> pl.DataFrame:
    """The rows of `table` whose dynamic columns differ from `before` (same loans, same order),
    with their position `at`."""
    differs = pl.any_horizontal(pl.col(name).ne_missing(pl.col(f"{name}_was")) for name in DYNAMIC)
    compared = pl.concat(
        [table.select(*DYNAMIC).with_row_index("at"),
         before.select(pl.col(name).alias(f"{name}_was") for name in DYNAMIC)],
        how="horizontal",
    )  # fmt: skip
    return compared.filter(differs).select("at", *DYNAMIC)


def write_loan_table(folder: Path, frame: pl.DataFrame) -> None:
    """Write a base (every column) or a delta (`at` and the dynamic columns)."""
    target = folder / TABLE
    target.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(target / "part-0.parquet", compression="lz4", statistics=False)


def _read(folder: Path) -> pl.DataFrame:
    parts = part_files(folder)
    return pl.read_parquet(parts) if parts else pl.DataFrame(schema=SCHEMA)

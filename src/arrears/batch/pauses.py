"""The book's pauses as frames and arrays: which days each loan's clocks stand still.

A loan's pauses are its borrower's holds of the kinds its product names (domain/pauses.py),
merged per clock. Most books have none, and most loans of a book that has some have none:
every function here costs nothing when there are none, and otherwise works on the few loans
that have them, found by position (loans are in loan_id order), never by a join over the
book.
"""

from collections.abc import Mapping
from datetime import date

import numpy as np
import polars as pl

from arrears.batch.grouped import Ints
from arrears.batch.ledger_arrays import NOT_YET, day_number, day_numbers
from arrears.domain.pauses import AGEING, CHARGES, merged
from arrears.domain.product import Product

PAUSE_SCHEMA = pl.Schema({"loan_id": pl.String(), "clock": pl.String(), "starts_on": pl.Date(),
                          "ends_on": pl.Date()})  # fmt: skip
# The columns a loan's pauses are made of: whose loan, and the holds of its borrower.
_HOLDS = ("borrower_id", "kind", "starts_on", "ends_on")


def no_pauses() -> pl.DataFrame:
    """No loan paused."""
    return pl.DataFrame(schema=PAUSE_SCHEMA)


def loan_pauses(
    loans: pl.DataFrame, holds: pl.DataFrame, products: Mapping[str, Product]
) -> pl.DataFrame:
    """Each loan's spans of days its clocks stand still (PAUSE_SCHEMA, by loan_id, clock and
    first day): its borrower's `holds` of the kinds its product names for each clock,
    merged. `loans`: loan_id, borrower_id and product (as text or categories)."""
    pausing = {code: p for code, p in products.items() if p.pauses_anything}
    if not pausing or holds.height == 0:
        return no_pauses()
    kinds = sorted({k for p in pausing.values() for k in (*p.pause_ageing, *p.pause_charges)})
    held = holds.select(_HOLDS).filter(pl.col("kind").is_in(kinds))
    if held.height == 0:
        return no_pauses()
    owners = held.get_column("borrower_id").unique().implode()
    mine = loans.select("loan_id", "borrower_id", pl.col("product").cast(pl.String)).filter(
        pl.col("borrower_id").is_in(owners) & pl.col("product").is_in(sorted(pausing))
    )
    spans: dict[tuple[str, str], list[tuple[date, date | None]]] = {}
    for loan_id, product, kind, first, last in (
        mine.join(held, on="borrower_id")
        .select("loan_id", "product", "kind", "starts_on", "ends_on")
        .iter_rows()
    ):
        stops = pausing[product]
        for clock, named in ((AGEING, stops.pause_ageing), (CHARGES, stops.pause_charges)):
            if kind in named:
                spans.setdefault((loan_id, clock), []).append((first, last))
    rows = [(loan_id, clock, first, last)
            for (loan_id, clock), found in sorted(spans.items())
            for first, last in merged(found)]  # fmt: skip
    return pl.DataFrame(rows, schema=PAUSE_SCHEMA, orient="row")


def changed_pauses(now: pl.DataFrame, before: pl.DataFrame | None) -> pl.DataFrame:
    """The loans (loan_id) whose pauses differ from those a run used before (`before`; None
    or empty: none were): a pause placed, changed or lifted may reach back before that run,
    so such a loan is worked again from its contract date."""
    if before is None or before.height == 0:
        return now.select("loan_id").unique().sort("loan_id")
    was = before.select(list(PAUSE_SCHEMA)).cast(PAUSE_SCHEMA)
    keys = list(PAUSE_SCHEMA)
    found = pl.concat([
        now.join(was, on=keys, how="anti", nulls_equal=True).select("loan_id"),
        was.join(now, on=keys, how="anti", nulls_equal=True).select("loan_id"),
    ])  # fmt: skip
    return found.unique().sort("loan_id")


def paused_positions(pauses: pl.DataFrame | None, loan_ids: pl.Series) -> Ints:
    """The positions among the sorted `loan_ids` of the loans with pauses (either clock;
    those not among them left out), distinct and sorted."""
    if pauses is None or pauses.height == 0:
        return np.zeros(0, dtype=np.int64)
    wanted = pauses.get_column("loan_id").unique()
    at = positions(loan_ids, wanted)
    return np.unique(at[at >= 0])


def pause_matrix(pauses: pl.DataFrame | None, loan_ids: pl.Series, clock: str) -> Ints:
    """One clock's spans as the ledger kernel takes them (ledger_kernel.PAUSE_LOAN, ..._FIRST,
    ..._LAST: day numbers, an open span's last day beyond any run), ordered by loan position
    among the sorted `loan_ids` and first day; loans not among them left out."""
    if pauses is None or pauses.height == 0:
        return np.zeros((0, 3), dtype=np.int64)
    mine = pauses.filter(pl.col("clock") == clock)
    at = positions(loan_ids, mine.get_column("loan_id"))
    first = day_numbers(mine.get_column("starts_on"), NOT_YET)
    last = day_numbers(mine.get_column("ends_on"), NOT_YET)
    kept = at >= 0
    matrix = np.column_stack([at[kept], first[kept], last[kept]]).astype(np.int64)
    order = np.lexsort((matrix[:, 1], matrix[:, 0]))
    return np.ascontiguousarray(matrix[order])


def days_stopped(
    pauses: pl.DataFrame | None, loan_ids: pl.Series, clock: str, after: Ints, upto: date
) -> tuple[Ints, Ints]:
    """Per loan with a span of `clock` (its position among the sorted `loan_ids`), the days
    d with after < d ≤ upto on which the clock stood still (`after`: a day number per loan
    of `loan_ids`; none past NOT_YET). Returns the positions and their days."""
    matrix = pause_matrix(pauses, loan_ids, clock)
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    at = matrix[:, 0]
    low = np.maximum(matrix[:, 1], after[at] + 1)
    high = np.minimum(matrix[:, 2], day_number(upto))
    days = np.where((after[at] < NOT_YET) & (high >= low), high - low + 1, 0)
    positions, first = np.unique(at, return_index=True)
    return positions, np.add.reduceat(days, first)


def positions(ids: pl.Series, wanted: pl.Series) -> Ints:
    """Where each of `wanted` is among the sorted `ids` (-1: not there)."""
    if ids.len() == 0:
        return np.full(wanted.len(), -1, dtype=np.int64)
    found = ids.search_sorted(wanted.cast(ids.dtype), side="left").cast(pl.Int64)
    clipped = found.clip(upper_bound=ids.len() - 1)
    hit = (ids.gather(clipped) == wanted.cast(ids.dtype)).fill_null(False).to_numpy()
    return np.where(hit, found.to_numpy(), -1)

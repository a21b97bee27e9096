"""The feed reader: reads a CSV or Parquet feed in batches and checks every cell and key in it."""

import csv
from collections.abc import Set
from pathlib import Path

import polars as pl
import pyarrow as pa

from arrears.adapters.feeds.error_log import ErrorLog
from arrears.adapters.feeds.parsed import ROW, FrameFeed
from arrears.adapters.feeds.sources import RawBatch, open_source
from arrears.adapters.feeds.specs import FeedSpec, feed_spec
from arrears.adapters.phone_zones import DEFAULT_REGION
from arrears.batch.terms_frame import unpriceable
from arrears.domain.terms import Pricing
from arrears.services.feed import FeedError, FeedKind, FeedRejected
from arrears.services.ports import Progress


class FileFeedReader:
    """Reads feeds with Arrow (CSV and Parquet) and checks them with Polars, a batch at a time."""

    def read(
        self,
        kind: FeedKind,
        path: Path,
        known_products: Set[str],
        progress: Progress | None = None,
        pricing: Pricing | None = None,
        phone_region: str = DEFAULT_REGION,
    ) -> FrameFeed:
        """Read and check the whole file; FeedRejected when the file as a whole is unusable;
        a loan no run could price under `pricing` is refused by row; a phone number written
        without +country code is read as a number of `phone_region`."""
        spec = feed_spec(kind, known_products, phone_region)
        source = open_source(spec, path)
        log = ErrorLog()
        parts = [parse_batch(spec, _no_rows(source.columns), log)]  # fixes the types if empty
        done = 0
        try:
            for batch in source.batches:
                parts.append(parse_batch(spec, batch, log))
                done += batch.rows.len()
                if progress is not None:
                    progress(done, max(done, source.expected_rows))
        except (pa.ArrowInvalid, OSError, csv.Error) as error:
            message = f"cannot read the file: {error}"
            raise FeedRejected(kind, path, [FeedError(None, None, message)]) from error
        for refused in source.errors:
            log.add(refused)
        frame = pl.concat(parts, rechunk=True)
        flag_duplicates(spec, frame, log)
        if kind == "loans" and pricing is not None:
            flag_unpriceable(frame, log, pricing)
        return FrameFeed(spec, frame, log)


def _no_rows(columns: list[str]) -> RawBatch:
    """An empty batch with the file's columns."""
    cells = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    return RawBatch(cells, pl.Series(ROW, [], dtype=pl.Int64))


def parse_batch(spec: FeedSpec, batch: RawBatch, log: ErrorLog) -> pl.DataFrame:
    """Typed values of a batch in table column order (null where bad), logging each bad cell."""
    values = [batch.rows.alias(ROW)]
    for column in spec.columns:
        if column.name in batch.cells.columns:
            cells = batch.cells[column.name]
        else:  # an optional column the file leaves out: every cell empty
            cells = pl.Series(column.name, [None] * batch.rows.len(), dtype=pl.String)
        parsed, errors = column.parse(cells)
        empty = cells.is_null()
        if column.required:
            errors = _where(empty, pl.lit("required value is empty"), errors)
        elif column.default is not None:
            parsed = _where(empty, pl.lit(column.default, dtype=parsed.dtype), parsed)
        refused = batch.refused.get(column.name)
        if refused is not None:  # not text at all: that is the cell's one error
            errors = pl.select(pl.coalesce(refused, errors)).to_series()
        log.add_cells(batch.rows, column.name, errors)
        values.append(parsed.alias(column.name))
    return pl.DataFrame(values)


def _where(condition: pl.Series, then: pl.Expr, otherwise: pl.Series) -> pl.Series:
    """`then` where the condition holds, else the other series' value."""
    return pl.select(pl.when(condition).then(then).otherwise(otherwise)).to_series()


def flag_duplicates(spec: FeedSpec, frame: pl.DataFrame, log: ErrorLog) -> None:
    """Log every repeat of a key within the file, pointing at its first row."""
    key = list(spec.key)
    repeats = (
        frame.select(ROW, *key)
        .drop_nulls(key)
        .with_columns(first=pl.col(ROW).min().over(key))
        .filter(pl.col(ROW) != pl.col("first"))
    )
    if repeats.is_empty():
        return
    said = ", ".join(f"{name} {{}}" for name in key)
    messages = repeats.select(pl.format(f"{said} appears again (first at row {{}})", *key, "first"))
    log.add_cells(repeats[ROW], key[-1], messages.to_series())


def flag_unpriceable(frame: pl.DataFrame, log: ErrorLog, pricing: Pricing) -> None:
    """Log every loan no run could price (its cost cap unresolved for its contract date, its
    rate or principal past the engine's Int64 arithmetic): a run would refuse the whole book
    for it. The run's own check, on the rows whose cells are all good."""
    keyed = frame.drop_nulls(["product", "contract_date", "annual_rate", "principal"])
    found = unpriceable(keyed, pricing)
    for (column,), rows in found.group_by("fault"):
        log.add_cells(rows[ROW], str(column), rows["reason"])

"""Feed files as batches of text cells with their file row numbers: CSV and Parquet readers.

Row numbers: the header is row 1 and the first data row is row 2. In CSV a row is a record,
which is also the line number unless a quoted value spans lines. Parquet has no header line, yet
its rows are numbered the same way (data row index + 2) so that both formats read alike.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import NoReturn

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from arrears.adapters.feeds.parquet_types import parquet_type_errors, text_column
from arrears.adapters.feeds.specs import FeedSpec
from arrears.adapters.feeds.text_cells import text_cells, text_problem
from arrears.services.feed import FeedError, FeedRejected

FIRST_DATA_ROW = 2
CSV_BLOCK_BYTES = 4 << 20  # ~100,000 rows a batch: progress moves, memory stays flat
PARQUET_BATCH_ROWS = 100_000
PYTHON_BATCH_ROWS = 100_000


@dataclass(frozen=True)
class RawBatch:
    """Text cells of some rows (empty or refused cells null), each row's number in the file,
    and by column the reason each refused cell was refused (not UTF-8, a control character)."""

    cells: pl.DataFrame
    rows: pl.Series
    refused: dict[str, pl.Series] = field(default_factory=dict)


@dataclass
class FeedSource:
    """An opened feed file: its columns, expected size, and its rows in batches."""

    path: Path
    columns: list[str]
    expected_rows: int
    batches: Iterator[RawBatch]
    # Rows the reader itself refused (wrong number of fields), found while reading.
    errors: list[FeedError] = field(default_factory=list)


def open_source(spec: FeedSpec, path: Path) -> FeedSource:
    """Open a .csv or .parquet feed and check its columns; FeedRejected if it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        _reject(spec, path, f"unsupported file type {suffix or '(none)'!r}: use .csv or .parquet")
    if not path.is_file():
        _reject(spec, path, "no such file")
    try:
        return _open_csv(spec, path) if suffix == ".csv" else _open_parquet(spec, path)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, csv.Error) as error:
        _reject(spec, path, f"cannot read the file: {error}")


def _reject(spec: FeedSpec, path: Path, message: str) -> NoReturn:
    """Refuse the whole file for one reason."""
    raise FeedRejected(spec.kind, path, [FeedError(None, None, message)])


def check_header(spec: FeedSpec, path: Path, names: list[str]) -> None:
    """Refuse a file whose columns are missing, unknown (typos) or repeated."""
    errors = [
        FeedError(None, name, "missing required column")
        for name in spec.required
        if name not in names
    ]
    expected = ", ".join(spec.names)
    errors += [
        FeedError(None, name or "(blank)", f"unknown column (expected {expected})")
        for name in names
        if name not in spec.names
    ]
    errors += [
        FeedError(None, name, "column appears more than once")
        for name in sorted({name for name in names if names.count(name) > 1})
    ]
    if errors:
        raise FeedRejected(spec.kind, path, errors)


def _open_csv(spec: FeedSpec, path: Path) -> FeedSource:
    """A CSV feed: UTF-8 (a BOM is fine), header row, values as text, read in blocks."""
    names = [name.strip() for name in _csv_header(spec, path)]
    check_header(spec, path, names)
    source = FeedSource(path, names, _count_lines(path) - 1, iter(()))
    source.batches = _csv_batches(path, names, source.errors)
    return source


def _csv_header(spec: FeedSpec, path: Path) -> list[str]:
    """The header row's names; the file refused if it is not UTF-8 there."""
    with path.open("rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            _reject(spec, path, "the file is UTF-16: save it as UTF-8 (CSV UTF-8)")
    # Undecodable bytes kept as they are: the header is read in a block that holds data rows
    # too, whose bad bytes are named later by row and column, not blamed on the header.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        header = next(csv.reader(handle), None)
    if header is None:
        _reject(spec, path, "the file is empty (no header row)")
    for name in header:
        problem = text_problem(name.encode("utf-8", "surrogateescape"))
        if problem is not None:
            raise FeedRejected(spec.kind, path, [FeedError(1, None, f"the header {problem}")])
    return header


def _csv_batches(path: Path, names: list[str], errors: list[FeedError]) -> Iterator[RawBatch]:
    """Yield the data rows, dropping blank lines; rows with a wrong field count go to `errors`.

    Arrow reads the file in blocks, fast; at a row it cannot parse (a wrong field count: it
    stops at the first) Python's csv module reads on from the last block given, naming every
    such row. Arrow is given no Python callback for those rows: Arrow's threads would release
    it, taking the GIL, and one doing so while the interpreter exits aborts the process.
    """
    arrow = _arrow_csv(path, names)
    emitted = 0
    while True:
        try:
            batch = next(arrow)
        except StopIteration:
            return
        except pa.ArrowInvalid:
            break
        rows = _row_numbers(emitted + FIRST_DATA_ROW, batch.num_rows)
        yield _without_blanks(_checked(pa.table(batch), rows))
        emitted += batch.num_rows
    yield from _python_csv(path, names, emitted, errors)


def _arrow_csv(path: Path, names: list[str]) -> Iterator[pa.RecordBatch]:
    """The data records as raw bytes (checked as text after), a block at a time."""
    # Opened by Python, not by name: Arrow takes a name as UTF-8 text, and a name that is not
    # (a GBK name from a Chinese Windows archive, say) made it fail.
    with path.open("rb") as handle:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=CSV_BLOCK_BYTES, skip_rows=1, column_names=names
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.binary()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        yield from reader


def _python_csv(
    path: Path, names: list[str], skip: int, errors: list[FeedError]
) -> Iterator[RawBatch]:
    """The records after the first `skip` data records, by Python's csv module, which reads
    past a row with a wrong field count (recorded in `errors`, then skipped)."""
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        records = enumerate(csv.reader(handle), start=1)  # the header is record 1
        for _ in islice(records, skip + 1):
            pass
        numbers: list[int] = []
        kept: list[list[str]] = []
        number = skip + 1
        try:
            for number, record in records:
                if len(record) == len(names):
                    numbers.append(number)
                    kept.append(record)
                elif record:  # a blank line is no record at all
                    message = f"has {len(record)} fields, the header has {len(names)}"
                    errors.append(FeedError(number, None, message))
                if len(kept) == PYTHON_BATCH_ROWS:
                    yield _python_batch(names, numbers, kept)
                    numbers, kept = [], []
        except csv.Error as error:
            raise csv.Error(f"row {number + 1}: {error}") from error
        if kept:
            yield _python_batch(names, numbers, kept)


def _python_batch(names: list[str], numbers: list[int], records: list[list[str]]) -> RawBatch:
    """Records read by Python as a batch of raw cells (their bytes, as Arrow gives them)."""
    columns = {
        name: pa.array(
            [record[i].encode("utf-8", "surrogateescape") for record in records], pa.binary()
        )
        for i, name in enumerate(names)
    }
    rows = pl.Series("_row", numbers, dtype=pl.Int64)
    return _without_blanks(_checked(pa.table(columns), rows))


def _checked(table: pa.Table, rows: pl.Series) -> RawBatch:
    """Raw cells as checked text (see text_cells), stripped, empty cells null."""
    text, refused = text_cells(table)
    return RawBatch(_empty_to_null(text), rows, refused)


def _without_blanks(batch: RawBatch) -> RawBatch:
    """The batch without its blank lines (every cell empty, none refused)."""
    blank = batch.cells.select(pl.all_horizontal(pl.all().is_null())).to_series()
    for reasons in batch.refused.values():
        blank &= reasons.is_null()
    keep = ~blank
    refused = {name: reasons.filter(keep) for name, reasons in batch.refused.items()}
    return RawBatch(batch.cells.filter(keep), batch.rows.filter(keep), refused)


def _row_numbers(start: int, count: int) -> pl.Series:
    """Consecutive file row numbers from `start`."""
    return pl.int_range(start, start + count, eager=True).alias("_row")


def _empty_to_null(cells: pl.DataFrame) -> pl.DataFrame:
    """Strip every cell; an empty cell becomes null."""
    stripped = (pl.col(name).str.strip_chars() for name in cells.columns)
    return cells.with_columns(
        pl.when(cell != "").then(cell).alias(name)
        for name, cell in zip(cells.columns, stripped, strict=True)
    )


def _count_lines(path: Path) -> int:
    """Lines in a file (the last one may lack its newline): the expected size for progress."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _open_parquet(spec: FeedSpec, path: Path) -> FeedSource:
    """A Parquet feed: columns typed as text or exactly (decimal, date, integer), never float."""
    with path.open("rb") as handle:  # by Python, not by name (_arrow_csv)
        parquet = pq.ParquetFile(handle)
        schema, rows = parquet.schema_arrow, parquet.metadata.num_rows
    check_header(spec, path, schema.names)
    forms = {column.name: column.form for column in spec.columns}
    errors = [
        error for field_ in schema for error in parquet_type_errors(field_, forms[field_.name])
    ]
    if errors:
        raise FeedRejected(spec.kind, path, errors)
    return FeedSource(path, schema.names, rows, _parquet_batches(path))


def _parquet_batches(path: Path) -> Iterator[RawBatch]:
    """Yield the rows as text cells, numbered as data row index + 2."""
    start = FIRST_DATA_ROW
    with path.open("rb") as handle:
        for batch in pq.ParquetFile(handle).iter_batches(batch_size=PARQUET_BATCH_ROWS):
            columns = {name: text_column(batch.column(name)) for name in batch.schema.names}
            yield _checked(pa.table(columns), _row_numbers(start, batch.num_rows))
            start += batch.num_rows

"""Frames into PostgreSQL as CSV through COPY: Polars writes the text, so no Python object is
made per value (a night's writes at 100,000 loans: docs/PERFORMANCE.md, "From the SQL
stores"). Reading the same way is slower: psycopg hands COPY's output over a row at a time
(2.3 million rows of a night's reads took 9.2 s against 3.8 s for fetching the rows)."""

from typing import Any

import polars as pl
import psycopg
from sqlalchemy import Connection, Table

from arrears.services.ports import StoreConflict

# The types whose values Polars writes as PostgreSQL reads them back, exactly.
_INTS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)
_ROWS_AT_ONCE = 200_000  # rows made into CSV text at a time: bounded memory


def _simple(dtype: Any) -> bool:
    """Whether values of this type cross as CSV text exactly."""
    return (
        dtype in _INTS or dtype in (pl.String, pl.Date, pl.Boolean)
        or isinstance(dtype, pl.Datetime)
    )  # fmt: skip


def write_copy(conn: Connection, table: Table, frame: pl.DataFrame) -> bool:
    """Insert the frame's rows (columns named as the table's) by COPY of its CSV; False when a
    column's type does not cross as CSV text (nothing written: the caller writes rows).
    StoreConflict when a key clashes."""
    if not all(_simple(dtype) for dtype in frame.schema.values()):
        return False
    quote = conn.dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in frame.columns)
    statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN WITH (FORMAT csv)"
    driver = conn.connection.driver_connection  # in the same transaction
    assert isinstance(driver, psycopg.Connection)  # make_engine routes PostgreSQL to psycopg
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for start in range(0, frame.height, _ROWS_AT_ONCE):
                # Nulls as empty fields, every text quoted: an empty one ("") is not a null,
                # and one that reads `\.` is not the end of the data.
                part = frame.slice(start, _ROWS_AT_ONCE)
                copy.write(part.write_csv(include_header=False, quote_style="non_numeric"))
    except psycopg.errors.IntegrityError as error:
        reason = str(error).splitlines()[0]
        raise StoreConflict(f"the database refused the rows: {reason}") from error
    return True

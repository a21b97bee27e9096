"""Read query results into Polars frames and write frames in bulk, on SQLite and PostgreSQL."""

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import Column, Connection, MetaData, Table, delete, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from arrears.adapters.db.bulk import bulk_insert
from arrears.adapters.db.pg_copy import write_copy

CHUNK = 50_000


def read_frame(
    conn: Connection, sql: str, schema: dict[str, Any], **params: object
) -> pl.DataFrame:
    """Run a query and type its columns (SQLite returns dates and instants as text)."""
    result = conn.execute(text(sql), params)
    try:
        # The driver's own tuples: SQLAlchemy's rows cost a third more to fetch (a million
        # instalment states: 1.9 s against 3.0 s on SQLite).
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    raw = _typed_rows(rows, schema, conn.dialect.name) if rows else pl.DataFrame(schema=schema)
    casts = []
    for name, dtype in schema.items():
        column = raw.get_column(name)
        if column.dtype == pl.String and dtype == pl.Date:
            casts.append(pl.col(name).str.to_date("%Y-%m-%d"))
        elif column.dtype == pl.String and isinstance(dtype, pl.Datetime):
            instant = pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
            casts.append(instant.dt.replace_time_zone("UTC"))
        else:
            casts.append(pl.col(name).cast(dtype))
    return raw.with_columns(casts).select(list(schema))


# Column types the drivers give as they are (SQLite: dates and instants as text, booleans
# as integers; read_frame casts them after).
_AS_GIVEN = (pl.Int64, pl.Int32, pl.Float64, pl.String)


def _typed_rows(rows: Sequence[Any], schema: dict[str, Any], dialect: str) -> pl.DataFrame:
    """Rows as a frame built with the types the driver gives, so Polars need not infer them
    (half the time on a million rows); any value of another type: inferred, as before."""
    given: dict[str, Any] = {}
    for name, dtype in schema.items():
        if dtype in _AS_GIVEN or (dialect == "postgresql" and dtype in (pl.Date, pl.Boolean)):
            given[name] = dtype
        elif dialect == "sqlite" and dtype == pl.Boolean:
            given[name] = pl.Int64
        elif dialect == "sqlite" and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
            given[name] = pl.String
        else:
            given[name] = None
    if None not in given.values():
        try:
            return pl.DataFrame(rows, schema=given, orient="row")
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            pass  # a value of another type than the column's (JSON, say): inferred below
    return pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None)


def write_frame(conn: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Insert every row of a frame (columns named as the table's) in bulk."""
    if frame.height == 0:
        return
    # The compiled INSERT lists columns in the table's order, whatever order they are given in.
    frame = frame.select([c.name for c in table.columns if c.name in frame.columns])
    if conn.dialect.name == "postgresql" and write_copy(conn, table, frame):
        return
    if conn.dialect.name == "sqlite":
        frame = _sqlite_text(frame)
    for start in range(0, frame.height, CHUNK):
        bulk_insert(conn, table, frame.columns, frame.slice(start, CHUNK).iter_rows())


def write_changes(
    conn: Connection, table: Table, keys: Sequence[str], before: pl.DataFrame, after: pl.DataFrame
) -> None:
    """Make `table`, which holds the rows `before` (its every column), hold `after`: only the
    rows new or changed are written and the rows gone deleted (a bench night at 100,000 loans
    changed 24,900 of 974,187 instalment states: writing them all again was most of its
    save; every loan's balance row changes, its state date)."""
    after = after.select(before.columns).cast(before.schema)
    fresh = after.join(before, on=before.columns, how="anti", nulls_equal=True)
    gone = before.select(keys).join(after.select(keys), on=list(keys), how="anti")
    delete_keys(conn, table, keys, pl.concat([fresh.select(keys), gone]))
    write_frame(conn, table, fresh)


def insert_new(conn: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Insert rows whose key is not stored yet (a re-run plans nothing twice).

    Goes through SQLAlchemy's types (Python dates and UTC instants), unlike the bulk path.
    """
    if frame.height == 0:
        return
    if conn.dialect.name == "sqlite":
        statement: Any = sqlite.insert(table).on_conflict_do_nothing()
    else:
        statement = postgresql.insert(table).on_conflict_do_nothing()
    conn.execute(statement, frame.to_dicts())


def delete_keys(conn: Connection, table: Table, keys: Sequence[str], frame: pl.DataFrame) -> None:
    """Delete the rows whose key columns match a row of `frame`.

    The keys go to a temporary table first, matched by one `(keys) IN (SELECT ...)`: SQLite
    reads a list of row values by scanning the whole table once per statement (a night's
    100,000 charge keys in lists of 500 took 10 s at 100,000 loans), a subquery through the
    table's key index (PostgreSQL: one hashed semi-join)."""
    if frame.height == 0:
        return
    rows = frame.select(keys).unique()
    scratch = Table(
        f"keys_of_{table.name}", MetaData(),
        *(Column(k, table.c[k].type) for k in keys), prefixes=["TEMPORARY"],
    )  # fmt: skip
    scratch.create(conn)
    try:
        write_frame(conn, scratch, rows)
        listed = select(*(scratch.c[k] for k in keys))
        conn.execute(delete(table).where(tuple_(*(table.c[k] for k in keys)).in_(listed)))
    finally:
        scratch.drop(conn)


def _sqlite_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates and instants as the text SQLAlchemy stores in SQLite."""
    return frame.with_columns(
        *(pl.col(n).dt.strftime("%Y-%m-%d") for n, t in frame.schema.items() if t == pl.Date),
        *(
            pl.col(n).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            .dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            for n, t in frame.schema.items()
            if isinstance(t, pl.Datetime)
        ),
    )  # fmt: skip

"""Read query results into Polars frames and write frames in bulk, on SQLite and PostgreSQL."""

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import Column, Connection, MetaData, Table, delete, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from arrears.adapters.db.bulk import bulk_insert

CHUNK = 50_000


def read_frame(
    conn: Connection, sql: str, schema: dict[str, Any], **params: object
) -> pl.DataFrame:
    """Run a query and type its columns (SQLite returns dates and instants as text)."""
    result = conn.execute(text(sql), params)
    rows = result.fetchall()
    if rows:
        raw = pl.DataFrame(
            [tuple(r) for r in rows], schema=list(schema), orient="row", infer_schema_length=None
        )
    else:
        raw = pl.DataFrame(schema=schema)
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


def write_frame(conn: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Insert every row of a frame (columns named as the table's) in bulk."""
    if frame.height == 0:
        return
    # The compiled INSERT lists columns in the table's order, whatever order they are given in.
    frame = frame.select([c.name for c in table.columns if c.name in frame.columns])
    if conn.dialect.name == "sqlite":
        frame = _sqlite_text(frame)
    for start in range(0, frame.height, CHUNK):
        bulk_insert(conn, table, frame.columns, frame.slice(start, CHUNK).iter_rows())


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

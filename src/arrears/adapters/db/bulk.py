"""Bulk inserts of feed rows: COPY on PostgreSQL, one executemany a chunk on SQLite."""

from collections.abc import Callable, Iterable, Sequence

import psycopg
from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import IntegrityError

from arrears.adapters.db import tables
from arrears.services.feed import FeedKind
from arrears.services.ports import FeedRows, StoreConflict

CHUNK_ROWS = 50_000  # Python tuples made at a time: bounded memory, few round trips

FEED_TABLES: dict[FeedKind, Table] = {
    "borrowers": tables.borrowers,
    "contacts": tables.contacts,
    "loans": tables.loans,
    "installments": tables.installments,
    "payments": tables.payments,
}

Rows = Iterable[Sequence[object]]


def insert_feed(
    connection: Connection, rows: FeedRows, progress: Callable[[int], None] | None = None
) -> None:
    """Insert checked feed rows into their table, in the connection's transaction."""
    table = FEED_TABLES[rows.kind]
    sqlite = connection.dialect.name == "sqlite"
    written = 0
    # SQLite stores SQLAlchemy dates as ISO text; sqlite3's own date adapter is deprecated.
    for chunk in rows.chunks(CHUNK_ROWS, iso_dates=sqlite):
        bulk_insert(connection, table, rows.columns, chunk)
        written += len(chunk)
        if progress is not None:
            progress(written)


def bulk_insert(connection: Connection, table: Table, columns: Sequence[str], rows: Rows) -> None:
    """Insert row tuples (values in `columns` order); StoreConflict when a key clashes."""
    try:
        if connection.dialect.name == "postgresql":
            _copy(connection, table, columns, rows)
        else:
            _executemany(connection, table, columns, rows)
    except (IntegrityError, psycopg.errors.IntegrityError) as error:
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        raise StoreConflict(f"the database refused the rows: {reason}") from error


def _executemany(connection: Connection, table: Table, columns: Sequence[str], rows: Rows) -> None:
    """Core's INSERT, compiled once and executed by the driver for all rows (no per-row dicts)."""
    statement = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    batch = [tuple(row) for row in rows]
    if batch:
        connection.exec_driver_sql(str(statement), batch)


def _copy(connection: Connection, table: Table, columns: Sequence[str], rows: Rows) -> None:
    """PostgreSQL COPY FROM STDIN through the driver connection, inside the same transaction."""
    quote = connection.dialect.identifier_preparer
    target = quote.format_table(table)
    names = ", ".join(quote.quote(name) for name in columns)
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)  # make_engine routes PostgreSQL to psycopg
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)

"""Engines for the two supported stores: SQLite (WAL, the default) and PostgreSQL (psycopg 3)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# A connection option: how SQLite begins its transactions ("IMMEDIATE": holding the write lock
# from the first statement, so what a transaction reads cannot change before it writes).
SQLITE_BEGIN, WRITE_FIRST = "sqlite_begin", {"sqlite_begin": "IMMEDIATE"}
# How long a writer waits for another writer's lock before SQLite gives up (ms).
SQLITE_BUSY_TIMEOUT_MS = 10_000
# 64 MiB page cache: bulk imports maintain primary-key indexes, which thrash the 2 MiB default.
SQLITE_CACHE_KIB = 65_536

_EXAMPLES = "sqlite:///arrears.db or postgresql://user@host:5432/dbname"


class DatabaseUrlError(ValueError):
    """A database URL the store cannot use."""


def make_engine(url: str, *, connect_args: Mapping[str, Any] | None = None) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL, with this project's connection settings."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, connect_args or {})
    if backend == "postgresql":
        return create_engine(_psycopg_url(parsed), connect_args=dict(connect_args or {}))
    raise DatabaseUrlError(
        f"unsupported database URL scheme {parsed.drivername!r}: use {_EXAMPLES}"
    )


def _parse(url: str) -> URL:
    """Parse a URL, accepting the common `postgres://` spelling."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(f"{url!r} is not a database URL: use {_EXAMPLES}") from None


def _psycopg_url(url: URL) -> URL:
    """Route PostgreSQL through psycopg 3, the only PostgreSQL driver the project installs."""
    driver = url.get_driver_name()
    if url.drivername == "postgresql" or driver == "psycopg":
        return url.set(drivername="postgresql+psycopg")
    raise DatabaseUrlError(
        f"PostgreSQL driver {driver!r} is not supported: use postgresql:// or postgresql+psycopg://"
    )


def _sqlite_engine(url: URL, connect_args: Mapping[str, Any]) -> Engine:
    """A SQLite engine in WAL mode with foreign keys on and real transactions."""
    if url.get_driver_name() != "pysqlite":
        raise DatabaseUrlError(
            f"SQLite driver {url.get_driver_name()!r} is not supported: use sqlite:///"
        )
    engine = create_engine(url, connect_args=dict(connect_args))
    in_memory = url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: object) -> None:
        """Set each new connection's pragmas."""
        # Hand transaction control to SQLAlchemy: pysqlite's legacy mode would not open a
        # transaction before SELECTs, so multi-query reads would not see one snapshot.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        """Open the transaction SQLAlchemy begins (pysqlite no longer does it); a connection
        with the `sqlite_begin="IMMEDIATE"` option takes the write lock at once (WRITE_FIRST)."""
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine

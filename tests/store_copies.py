"""Test databases copied from templates made once a test session: each kind of store a test
starts from (migrated, or holding a book imported and run) is made once, on SQLite and on
PostgreSQL, and each test gets its own copy."""

import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.migrate import upgrade
from arrears.bootstrap import App, build_app

PG_URL_ENV = "ARREARS_TEST_PG_URL"
REQUIRE_PG_ENV = "ARREARS_REQUIRE_PG"


def postgres_url() -> str:
    """The test server's URL; skip (or fail, when PostgreSQL is required) without one."""
    url = os.environ.get(PG_URL_ENV)
    if url:
        return url
    if os.environ.get(REQUIRE_PG_ENV) == "1":
        pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set")
    pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")


# Fills a database at a URL (empty, no schema) as a kind of test store starts, working in a
# folder of its own.
Fill = Callable[[str, Path], None]


def _migrated(url: str, _folder: Path) -> None:
    """The newest schema, holding nothing."""
    made = make_engine(url)
    try:
        upgrade(made)
    finally:
        made.dispose()


class Templates:
    """Databases made once a test session, each as a kind of test store starts (migrated to
    the newest schema, or a book imported and run too), copied for each test that wants one:
    migrating takes ~0.15 s on SQLite and ~0.55 s on PostgreSQL, importing and running a
    book 0.3–1.5 s more, a copy ~0.05 s."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.postgres: dict[tuple[str, str], str] = {}  # (server URL, kind) → template's name
        self.fills: dict[str, Fill] = {}

    def sqlite(self, kind: str = "migrated", fill: Fill = _migrated) -> Path:
        """The SQLite file of that kind (made whole under another name, then renamed: a fill
        that fails leaves no template)."""
        self._one_fill(kind, fill)
        path = self.folder / f"{kind}.db"
        if not path.exists():
            making = self.folder / f"{kind}.making.db"
            making.unlink(missing_ok=True)
            fill(f"sqlite:///{making}", self._work(kind))
            with closing(sqlite3.connect(making)) as connection:  # its log into the file
                busy, logged, moved = connection.execute(
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                ).fetchone()
            if busy or logged != moved:  # a connection the fill left open keeps some of it
                raise RuntimeError(f"{kind}: the fill left its database open: part of its log "
                                   f"is not in the file, and a copy would lose it")  # fmt: skip
            making.rename(path)
        return path

    def postgres_template(self, base: str, kind: str = "migrated", fill: Fill = _migrated) -> str:
        """The name of the server's template database of that kind (no connection is left on
        it: a database copies only a template nobody is connected to)."""
        self._one_fill(kind, fill)
        if (base, kind) not in self.postgres:
            name = f"arrears_template_{secrets.token_hex(6)}"
            on_server(base, f"CREATE DATABASE {name}")
            try:
                fill(make_url(base).set(database=name).render_as_string(False), self._work(kind))
            except BaseException:
                on_server(base, f"DROP DATABASE {name} WITH (FORCE)")
                raise
            self.postgres[(base, kind)] = name
        return self.postgres[(base, kind)]

    def _one_fill(self, kind: str, fill: Fill) -> None:
        """Refuse a second way of filling a kind: its tests would get the other's database."""
        if self.fills.setdefault(kind, fill) is not fill:
            raise ValueError(f"two ways of filling the test store {kind!r}: name each its own")

    def _work(self, kind: str) -> Path:
        """A folder of the kind's own for its fill to work in."""
        folder = self.folder / f"{kind}-work"
        folder.mkdir(exist_ok=True)
        return folder

    def drop(self) -> None:
        """Drop the template databases made."""
        for (base, _kind), name in self.postgres.items():
            on_server(base, f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def copied_store(
    backend: str, tmp_path: Path, templates: Templates, kind: str = "migrated",
    fill: Fill = _migrated,
) -> Iterator[str]:  # fmt: skip
    """The URL of a test's own copy of the session's template of that kind: a SQLite file
    (tmp_path/arrears.db), or a PostgreSQL database dropped after."""
    if backend == "sqlite":
        target = tmp_path / "arrears.db"
        shutil.copy(templates.sqlite(kind, fill), target)
        yield f"sqlite:///{target}"
        return
    base = postgres_url()
    name = f"t_{secrets.token_hex(6)}"
    on_server(
        base, f"CREATE DATABASE {name} TEMPLATE {templates.postgres_template(base, kind, fill)}"
    )
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a connection a failed test left open does not keep the database.
        on_server(base, f"DROP DATABASE {name} WITH (FORCE)")


def on_server(base: str, statement: str) -> None:
    """Run a statement outside a transaction (CREATE and DROP DATABASE must be)."""
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        admin.engine.dispose()


@contextmanager
def copied_app(
    backend: str, tmp_path: Path, templates: Templates, kind: str, fill: Fill
) -> Iterator[App]:
    """An app on a test's own copy of the session's template of that kind (closed after)."""
    with copied_store(backend, tmp_path, templates, kind, fill) as url:
        app = build_app(url, None, tmp_path)
        try:
            yield app
        finally:
            app.close()

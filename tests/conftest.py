"""Shared fixtures: a store on SQLite and on PostgreSQL, each test's a copy of a database migrated
once a session (or an empty one, for the migrations' own tests); the calendar cache in a folder
of the test session's own (not the user's); passwords hashed at argon2's lowest cost.

PostgreSQL runs when ARREARS_TEST_PG_URL is set (postgresql+psycopg://postgres@127.0.0.1:5432/test);
without it those tests are skipped, unless ARREARS_REQUIRE_PG=1 (CI), which makes them fail.
"""

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from arrears import bootstrap
from arrears.adapters.calendar_source import CACHE_ENV
from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.migrate import upgrade
from arrears.adapters.passwords import Argon2Passwords
from tests.password_cost import TEST_COST

PG_URL_ENV = "ARREARS_TEST_PG_URL"
REQUIRE_PG_ENV = "ARREARS_REQUIRE_PG"


@pytest.fixture(scope="session", autouse=True)
def _calendar_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Calendars the tests work out are kept in the session's own folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """The apps the tests build hash passwords with argon2id at its lowest cost (the cost
    rides in each hash, so signing in verifies at it too): the real hashing and sign-in,
    without the production cost's ~0.16 s of CPU each, hundreds of times a run. That cost is
    checked in tests/adapters/test_passwords.py; the CLI's own processes use it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bootstrap, "Argon2Passwords", lambda: Argon2Passwords(TEST_COST))
        yield


def _postgres_url() -> str:
    """The test server's URL; skip (or fail, when PostgreSQL is required) without one."""
    url = os.environ.get(PG_URL_ENV)
    if url:
        return url
    if os.environ.get(REQUIRE_PG_ENV) == "1":
        pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set")
    pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")


class _Templates:
    """Databases migrated to the newest schema once a test session, copied for each test that
    wants one: migrating takes ~0.15 s on SQLite and ~0.55 s on PostgreSQL, a copy ~0.05 s."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.postgres: dict[str, str] = {}  # server URL → its template database's name

    def sqlite(self) -> Path:
        """The migrated SQLite file."""
        path = self.folder / "migrated.db"
        if not path.exists():
            made = make_engine(f"sqlite:///{path}")
            upgrade(made)
            made.dispose()
        return path

    def postgres_template(self, base: str) -> str:
        """The name of the server's migrated template database (no connection is left on it:
        a database copies only a template nobody is connected to)."""
        if base not in self.postgres:
            name = f"arrears_template_{secrets.token_hex(6)}"
            _on_server(base, f"CREATE DATABASE {name}")
            self.postgres[base] = name  # dropped at the end even if migrating it fails
            made = make_engine(make_url(base).set(database=name).render_as_string(False))
            try:
                upgrade(made)
            finally:
                made.dispose()
        return self.postgres[base]

    def drop(self) -> None:
        """Drop the template databases made."""
        for base, name in self.postgres.items():
            _on_server(base, f"DROP DATABASE {name} WITH (FORCE)")


def _on_server(base: str, statement: str) -> None:
    """Run a statement outside a transaction (CREATE and DROP DATABASE must be)."""
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        admin.engine.dispose()


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    """The session's migrated databases (made when first asked for)."""
    made = _Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, _templates: _Templates
) -> Iterator[str]:
    """A URL of a database at the newest schema, holding nothing: a SQLite file, or a
    PostgreSQL database dropped after (each a copy of the session's migrated template;
    `arrears init` on it changes nothing)."""
    if request.param == "sqlite":
        target = tmp_path / "arrears.db"
        shutil.copy(_templates.sqlite(), target)
        yield f"sqlite:///{target}"
        return
    base = _postgres_url()
    name = f"t_{secrets.token_hex(6)}"
    _on_server(base, f"CREATE DATABASE {name} TEMPLATE {_templates.postgres_template(base)}")
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a connection a failed test left open does not keep the database.
        _on_server(base, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database (no schema): a SQLite file, or a fresh PostgreSQL schema
    dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'arrears.db'}"
        return
    base = _postgres_url()
    schema = f"t_{secrets.token_hex(6)}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    # The schema rides in the URL (libpq `options`), so a URL handed to the CLI stays isolated.
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    """An engine on an empty test database."""
    made = make_engine(empty_url)
    yield made
    made.dispose()


@pytest.fixture
def migrated(store_url: str) -> Iterator[Engine]:
    """An engine on a test database at the newest schema."""
    made = make_engine(store_url)
    yield made
    made.dispose()

"""Shared fixtures: a store on SQLite and on PostgreSQL, each test's a copy of a database migrated
once a session (tests/store_copies.py; or an empty one, for the migrations' own tests); the
calendar cache in a folder of the test session's own (not the user's); passwords hashed at
argon2's lowest cost.

PostgreSQL runs when ARREARS_TEST_PG_URL is set (postgresql+psycopg://postgres@127.0.0.1:5432/test);
without it those tests are skipped, unless ARREARS_REQUIRE_PG=1 (CI), which makes them fail.
"""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from arrears import bootstrap
from arrears.adapters.calendar_source import CACHE_ENV
from arrears.adapters.db.engine import make_engine
from arrears.adapters.passwords import Argon2Passwords
from tests.password_cost import TEST_COST
from tests.store_copies import Templates, copied_store, postgres_url


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


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """The session's template databases (each made when first asked for)."""
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, store_templates: Templates
) -> Iterator[str]:
    """A URL of a database at the newest schema, holding nothing: a SQLite file, or a
    PostgreSQL database dropped after (each a copy of the session's migrated template;
    `arrears init` on it changes nothing)."""
    with copied_store(request.param, tmp_path, store_templates) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database (no schema): a SQLite file, or a fresh PostgreSQL schema
    dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'arrears.db'}"
        return
    base = postgres_url()
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

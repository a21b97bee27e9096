"""Shared fixtures: a store on SQLite and on PostgreSQL, each PostgreSQL test in a fresh schema;
the calendar cache in a folder of the test session's own (not the user's).

PostgreSQL runs when ARREARS_TEST_PG_URL is set (postgresql+psycopg://postgres@127.0.0.1:5432/test);
without it those tests are skipped, unless ARREARS_REQUIRE_PG=1 (CI), which makes them fail.
"""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from arrears.adapters.calendar_source import CACHE_ENV
from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.migrate import upgrade

PG_URL_ENV = "ARREARS_TEST_PG_URL"
REQUIRE_PG_ENV = "ARREARS_REQUIRE_PG"


@pytest.fixture(scope="session", autouse=True)
def _calendar_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Calendars the tests work out are kept in the session's own folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        yield


def _postgres_url() -> str:
    """The test server's URL; skip (or fail, when PostgreSQL is required) without one."""
    url = os.environ.get(PG_URL_ENV)
    if url:
        return url
    if os.environ.get(REQUIRE_PG_ENV) == "1":
        pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set")
    pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh PostgreSQL schema dropped after."""
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
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on the empty test database."""
    made = make_engine(store_url)
    yield made
    made.dispose()


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    """An engine on a test database migrated to the newest schema."""
    upgrade(engine)
    return engine

"""Fixtures of the workbench tests: one desk built per session, copied for each test."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from arrears.bootstrap import build_app
from tests.entrypoints.web.desk_book import (
    DAY_TIME,
    Desk,
    build_desk,
    copy_database,
    desk_on,
    seed_people,
)


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite file of a built desk (built once: the book's run takes a few seconds)."""
    work = tmp_path_factory.mktemp("desk")
    app = build_desk(f"sqlite:///{work / 'desk.db'}", work)
    app.close()
    return work / "desk.db"


@pytest.fixture
def desk(desk_template: Path, tmp_path: Path) -> Iterator[Desk]:
    """A desk of its own for one test (a copy of the template database)."""
    app = build_app(copy_database(desk_template, tmp_path / "desk.db"), None, tmp_path)
    yield desk_on(app)
    app.close()


@pytest.fixture
def staffed(store_url: str, tmp_path: Path) -> Iterator[Desk]:
    """The demo's teams, agency and people on SQLite and on PostgreSQL, with no book."""
    app = build_app(store_url, None, tmp_path)
    app.migrate()
    seed_people(app, DAY_TIME)
    yield desk_on(app)
    app.close()

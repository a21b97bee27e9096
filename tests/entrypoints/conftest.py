"""Fixtures of the sending and replies tests: the book whose texts are planned, the SMSC."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from arrears.bootstrap import App
from tests.channel_servers import Smsc, running_smsc
from tests.entrypoints.cli_ok import synthetic_store
from tests.store_copies import Templates, copied_app


def _texts_planned(url: str, folder: Path) -> None:
    """60 Chinese loans run through 30 September: four texts planned for the day."""
    synthetic_store(url, folder, date(2025, 9, 30), datetime(2025, 9, 30, 0, tzinfo=UTC)).close()


@pytest.fixture(params=["sqlite", "postgresql"])
def book(
    request: pytest.FixtureRequest, tmp_path: Path, store_templates: Templates
) -> Iterator[App]:
    """60 Chinese loans run through 30 September: four texts planned for the day (a test
    file may have a `book` of its own). Each test's own copy of the book made once a session."""
    with copied_app(request.param, tmp_path, store_templates, "texts-planned",
                    _texts_planned) as app:  # fmt: skip
        yield app


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    """A real SMSC (smpp34's) on a free port."""
    with running_smsc() as server:
        yield server

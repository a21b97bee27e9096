"""Fixtures of the sending and replies tests: the book whose texts are planned, the SMSC."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from arrears.bootstrap import App
from tests.channel_servers import Smsc, running_smsc
from tests.entrypoints.cli_ok import synthetic_store


@pytest.fixture
def book(store_url: str, tmp_path: Path) -> Iterator[App]:
    """60 Chinese loans run through 30 September: four texts planned for the day (a test
    file may have a `book` of its own)."""
    app = synthetic_store(store_url, tmp_path, date(2025, 9, 30),
                          datetime(2025, 9, 30, 0, tzinfo=UTC))  # fmt: skip
    yield app
    app.close()


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    """A real SMSC (smpp34's) on a free port."""
    with running_smsc() as server:
        yield server

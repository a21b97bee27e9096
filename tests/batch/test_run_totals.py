"""A run's totals add up a whole book exactly, past what Int64 holds (local and SQL engines)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from arrears.adapters.feeds.reader import FileFeedReader
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_frames import write_book
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.services.import_feed import import_feed
from tests.batch.huge_book import AS_OF, LOANS, assert_exact_totals, huge_book, write_feeds

AT = datetime(2025, 3, 5, 23, tzinfo=UTC)


def _on_parquet(folder: Path, loans: int) -> dict[str, Any]:
    store = ParquetEngineStore(write_book(huge_book(loans), folder))
    summary = run_day(store, App("sqlite://", load_settings(None)).run_context(AS_OF), AT)
    assert store.folder.runs()[-1].summary == summary
    return summary


def test_a_parquet_books_totals_past_int64_are_exact(tmp_path: Path) -> None:
    assert_exact_totals(_on_parquet(tmp_path / "book", LOANS), _on_parquet(tmp_path / "two", 2))


def test_a_databases_totals_past_int64_are_exact(migrated: Engine, tmp_path: Path) -> None:
    app = App(str(migrated.url), load_settings(None))
    app.__dict__["engine"] = migrated  # share the fixture's engine (its schema)
    products = set(app.settings.products)
    for kind, path in write_feeds(huge_book(), tmp_path).items():
        import_feed(app.ledger, FileFeedReader(), kind, path, products)  # type: ignore[arg-type]
    summary = run_day(app.runs, app.run_context(AS_OF), AT)
    assert app.runs.run_summary(AS_OF) == summary
    assert_exact_totals(summary, _on_parquet(tmp_path / "two", 2))

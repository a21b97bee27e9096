"""Run the command line in-process, expecting success (its JSON document, if it printed one),
and the settings and store a command-line test starts from."""

import json
from datetime import date, datetime
from pathlib import Path

from typer.testing import CliRunner

from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App, build_app
from arrears.entrypoints.cli import app
from tests.feed_files import import_synthetic

runner = CliRunner()


def cli_ok(*args: str, db: str) -> dict[str, object]:
    """`arrears ARGS --db DB`, which must exit 0; the document printed with --json, else {}."""
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout) if "--json" in args else {}
    return document


def ladder_settings(folder: Path, ladder: str) -> Path:
    """A settings file giving the cn-cash product the `ladder` (TOML text), in `folder`."""
    (folder / "ladder.toml").write_text(ladder, encoding="utf-8")
    path = folder / "arrears.toml"
    path.write_text('[products.cn-cash]\nstrategy = "ladder.toml"\n', encoding="utf-8")
    return path


def imported(feeds: dict[str, str], folder: Path, config: Path, db: str) -> None:
    """A new store at `db` holding the CSV `feeds` (kind → text), imported in their order."""
    cli_ok("init", db=db)
    for kind, text in feeds.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
        cli_ok("import", kind, str(folder / f"{kind}.csv"), "--config", str(config), db=db)


def synthetic_store(url: str, folder: Path, through: date, at: datetime) -> App:
    """A store at `url` holding the 60 Chinese loans the command-line tests share (lent from
    January 2025), run through the day `through` at the instant `at`."""
    store = build_app(url, None, folder)
    store.migrate()
    made = synthetic_book(60, date(2025, 1, 6), 90, seed=11)
    import_synthetic(store, made, folder)
    run_day(store.runs, store.run_context(through), at)
    return store

"""`arrears book run`: the end of day over a Parquet book folder, from the command line."""

import json
from datetime import date
from pathlib import Path

import typer
from typer.testing import CliRunner

from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.entrypoints.cli import app as arrears_app
from arrears.entrypoints.cli_engine import register

runner = CliRunner()
app = typer.Typer()
app.command()(lambda: None)  # a second command, so that `book` stays a sub-command
register(app)


def test_book_run_prints_the_run_summary_as_json(tmp_path: Path) -> None:
    book = write_book(synthetic_frames(20, date(2025, 11, 18), history_days=60), tmp_path / "b")
    args = ["book", "run", "--book", str(book), "--as-of", "2025-11-18", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["as_of"], document["loans"], document["since"]) == ("2025-11-18", 20, None)
    assert (book / "state" / "runs.json").is_file()


def test_book_run_names_an_unknown_engine_and_a_missing_folder(tmp_path: Path) -> None:
    args = ["book", "run", "--book", str(tmp_path), "--as-of", "2025-11-18"]
    result = runner.invoke(app, [*args, "--engine", "dask"])
    assert result.exit_code == 2
    assert "--engine 'dask' is not one of local, spark" in result.stderr
    result = runner.invoke(app, [*args[:3], str(tmp_path / "nowhere"), *args[4:]])
    assert result.exit_code == 1
    assert "nowhere does not exist" in result.stderr
    # A file where the folder should be is named as what it is (found by helper-110).
    (tmp_path / "f.csv").write_text("loan_id\n")
    result = runner.invoke(app, [*args[:3], str(tmp_path / "f.csv"), *args[4:]])
    assert result.exit_code == 1
    assert f"the book folder {tmp_path / 'f.csv'} is not a folder" in result.stderr


def test_spark_options_are_refused_for_a_run_that_is_not_sparks(tmp_path: Path) -> None:
    # They would be ignored: the run would go on locally as if they had been heard (found by
    # helper-110). Refused before anything is read or written.
    book = write_book(synthetic_frames(20, date(2025, 11, 18), history_days=60), tmp_path / "b")
    database = tmp_path / "never.db"
    for args, given in [
        (["book", "run", "--book", str(book), "--buckets", "3"], "--buckets is"),
        (["run", "--book", str(book), "--master", "spark://x:7077"], "--master is"),
        (["run", "--db", f"sqlite:///{database}", "--master", "spark://x:7077", "--buckets", "2"],
         "--master and --buckets are"),
    ]:  # fmt: skip
        result = runner.invoke(arrears_app, [*args, "--as-of", "2025-11-18"])
        assert result.exit_code == 2, (args, result.stdout)
        assert f"{given} for --engine spark only; this run is local" in result.stderr
    assert not (book / "state" / "runs.json").exists()
    assert not database.exists()


def test_a_settings_path_that_is_a_folder_is_named_as_one(tmp_path: Path) -> None:
    book = write_book(synthetic_frames(20, date(2025, 11, 18), history_days=60), tmp_path / "b")
    args = ["run", "--book", str(book), "--config", str(tmp_path), "--as-of", "2025-11-18"]
    result = runner.invoke(arrears_app, args)
    assert result.exit_code == 1
    assert f"settings file {tmp_path} is not a file" in result.stderr


def test_book_run_names_a_book_it_cannot_write(tmp_path: Path) -> None:
    # The state folder is a file: the book cannot be held (as a folder it may not write).
    book = write_book(synthetic_frames(20, date(2025, 11, 18), history_days=60), tmp_path / "b")
    (book / "state").write_text("not a folder")
    result = runner.invoke(app, ["book", "run", "--book", str(book), "--as-of", "2025-11-18"])
    assert isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert f"the book {book} cannot be read or written: [Errno" in result.stderr
    assert (book / "state").read_text() == "not a folder"


def test_settings_named_before_the_command_hold_for_a_book_run(tmp_path: Path) -> None:
    book = write_book(synthetic_frames(20, date(2025, 11, 18), history_days=60), tmp_path / "b")
    missing = tmp_path / "nowhere.toml"
    for args in (["book", "run"], ["run", "--engine", "local"]):
        run = [*args, "--book", str(book), "--as-of", "2025-11-18"]
        result = runner.invoke(arrears_app, ["--config", str(missing), *run])
        assert result.exit_code == 1, (args, result.stdout)
        assert f"settings file {missing} does not exist" in result.stderr
    assert not (book / "state" / "runs.json").exists()  # nothing ran under other settings


def test_book_run_names_a_damaged_state_file(tmp_path: Path) -> None:
    book = write_book(synthetic_frames(20, date(2025, 11, 17), history_days=60), tmp_path / "b")
    args = ["book", "run", "--book", str(book), "--as-of"]
    first = runner.invoke(arrears_app, [*args, "2025-11-17"])
    assert first.exit_code == 0, first.stderr
    (run,) = (book / "state").glob("run-*")
    part = run / "loans" / "part-0.parquet"
    part.write_bytes(part.read_bytes()[:100])
    result = runner.invoke(arrears_app, [*args, "2025-11-18"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the state of the book {book} is damaged: ")
    reason = "cannot be read (ComputeError: parquet: "
    assert f"{run.name}/loans/part-0.parquet {reason}" in result.stderr
    assert "Traceback" not in result.stderr

"""An incremental night of a Parquet book, killed at any moment and run again, leaves exactly
the book of one clean night: every table, and the state the next night goes on from."""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.adapters.book_tables import OUTPUTS
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.adapters.zone_cache import zones_folder

AS_OF = date(2025, 11, 18)
YESTERDAY = AS_OF - timedelta(days=1)
CLI = [str(Path(sys.executable).with_name("arrears"))]
KEYS = {"plan": ["action_key"], "blocked": ["loan_id", "action", "rule"]}


def night(book: Path, day: date, kill_after: float | None = None) -> bool:
    """Run a night in a child process; SIGKILL it after `kill_after` seconds. Finished?"""
    child = subprocess.Popen(
        [*CLI, "run", "--as-of", day.isoformat(), "--book", str(book), "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ | {"COLUMNS": "200"},
    )  # fmt: skip
    if kill_after is not None:
        time.sleep(kill_after)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.communicate()
            return False
    _, err = child.communicate(timeout=600)
    assert child.returncode == 0, err.decode()
    return True


def tables(book: Path, day: date) -> dict[str, pl.DataFrame]:
    """Every table of the run of `day`, in a fixed order."""
    written = ParquetEngineStore(book).tables(day, list(OUTPUTS))
    return {name: frame.sort(KEYS.get(name, frame.columns)) for name, frame in written.items()}


def same(mine: dict[str, pl.DataFrame], theirs: dict[str, pl.DataFrame]) -> bool:
    """Whether two runs wrote the same tables."""
    return mine.keys() == theirs.keys() and all(mine[n].equals(theirs[n]) for n in mine)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3,000-loan book run up to yesterday, today's payments arriving as a new part."""
    folder = tmp_path_factory.mktemp("night")
    frames = synthetic_frames(3_000, AS_OF, seed=5, history_days=200)
    payments = frames.pop("payments")
    root = write_book(frames, folder / "book")
    (root / "payments").mkdir()
    payments.filter(pl.col("paid_on") < AS_OF).write_parquet(root / "payments/history.parquet")
    night(root, YESTERDAY)
    payments.filter(pl.col("paid_on") == AS_OF).write_parquet(root / f"payments/{AS_OF}.parquet")
    return root


def test_a_killed_night_leaves_the_last_run_or_the_whole_night(book: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    shutil.copytree(book, clean)
    started = time.monotonic()
    night(clean, AS_OF)
    duration = time.monotonic() - started
    expected = tables(clean, AS_OF)
    assert [r.kind for r in ParquetEngineStore(clean).folder.runs()] == ["base", "delta"]
    victim = tmp_path / "victim"
    shutil.copytree(book, victim)
    before = (victim / "state/runs.json").read_text(encoding="utf-8")
    killed, delay, finished = 0, 0.1 * duration, False
    # Kill ever later, from start-up to the commit, until a night gets to finish.
    while not finished:
        finished = night(victim, AS_OF, kill_after=delay)
        runs = (victim / "state/runs.json").read_text(encoding="utf-8")
        if not finished:
            killed += 1
            # All or nothing: the record names the last night or this whole night.
            assert runs == before or same(tables(victim, AS_OF), expected)
        delay += 0.1 * duration
    assert killed >= 3, "the night finished before most kills: the test would prove nothing"
    night(victim, AS_OF)  # and running the day again changes nothing
    for name, frame in tables(victim, AS_OF).items():
        assert_frame_equal(frame, expected[name], check_row_order=False)
    # The night after goes on from the same state as after a clean night.
    tomorrow = AS_OF + timedelta(days=1)
    night(victim, tomorrow)
    night(clean, tomorrow)
    theirs = tables(clean, tomorrow)
    for name, frame in tables(victim, tomorrow).items():
        assert_frame_equal(frame, theirs[name], check_row_order=False)


def test_what_a_killed_night_was_writing_beside_its_folder_is_removed(
    book: Path, tmp_path: Path
) -> None:
    # A night killed while writing runs.json's new copy or a part of the zones cache leaves
    # it half-written beside the folders (as helper-41 found, killing at those points): the
    # next night removes both, and keeps the cache's whole parts.
    victim = tmp_path / "victim"
    shutil.copytree(book, victim)
    zones = zones_folder(victim / "state")
    kept = sorted(zones.glob("part-*"))
    assert kept, "the book's first night cached no zones: nothing would be checked"
    strays = [victim / "state/.runs.json.0badf00d", zones / ".part-0badf00d.parquet"]
    for stray in strays:
        stray.write_bytes(b"PAR1 half-written")
    night(victim, AS_OF)
    assert [stray.exists() for stray in strays] == [False, False]
    assert set(kept) <= set(zones.glob("part-*"))

"""A run over a Parquet book whose state is damaged or missing files names them, and writes
nothing; a damaged part of the zones cache is only a cache's loss."""

import re
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from arrears.adapters import book_night, parquet_store
from arrears.adapters.book_folder import BookFolderError
from arrears.adapters.loan_table import EVERY_LOAN, OWNERS
from arrears.adapters.parquet_store import PICKED, ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.state_damage import StateDamaged, damage, named_damage
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.adapters.zone_cache import zones_folder
from arrears.batch.run import run_day
from arrears.bootstrap import App

FIRST = date(2025, 11, 17)
NIGHT = FIRST + timedelta(days=1)
TONIGHT = FIRST + timedelta(days=2)
TABLES = synthetic_frames(40, FIRST, seed=7, history_days=120)


def run(store: ParquetEngineStore, day: date) -> dict[str, Any]:
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23)
    return run_day(store, App("sqlite://", load_settings(None)).run_context(day), at)


@pytest.fixture
def book(tmp_path: Path) -> ParquetEngineStore:
    """A 40-loan book with a base run and a delta night after it (its payments a folder of
    parts, as a lender's daily files come)."""
    root = write_book(TABLES, tmp_path / "book")
    (root / "payments").mkdir()
    (root / "payments.parquet").rename(root / "payments" / "part-0.parquet")
    store = ParquetEngineStore(root)
    run(store, FIRST)
    run(store, NIGHT)
    return store


def folder_of(store: ParquetEngineStore, day: date) -> Path:
    return store.folder.state / next(r.folder for r in store.folder.runs() if r.as_of == day)


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def a_new_payments_part(store: ParquetEngineStore) -> None:
    """A part of payments new tonight: a night then reads the payment ids kept so far."""
    folder = store.folder.root / "payments"
    known = pl.read_parquet(folder / "part-0.parquet").head(2)
    new = known.with_columns(pl.Series("payment_id", ["NEW-1", "NEW-2"]),
                             pl.lit(TONIGHT).alias("paid_on"))  # fmt: skip
    new.write_parquet(folder / "part-1.parquet")


Damage = Callable[[ParquetEngineStore], str]


def every_file(store: ParquetEngineStore) -> list[str]:
    """Every file under the state folder, the run lock aside."""
    state = store.folder.state
    return sorted(str(p.relative_to(state)) for p in state.rglob("*") if p.name != ".run.lock")


def loan_table_of_the_night(store: ParquetEngineStore) -> str:
    truncated(folder_of(store, NIGHT) / "loans" / "part-0.parquet")
    return f"{folder_of(store, NIGHT).name}/loans/part-0.parquet cannot be read"


def lines_of_the_night(store: ParquetEngineStore) -> str:
    # The loans worked last night, their lines there, are worked again tonight.
    path = folder_of(store, NIGHT) / "instalment_states" / "part-0.parquet"
    path.write_bytes(b"not a Parquet file at all")
    return f"{folder_of(store, NIGHT).name}/instalment_states/part-0.parquet cannot be read"


def table_gone(store: ParquetEngineStore, day: date, table: str) -> str:
    """Remove a run's table; what the error names."""
    shutil.rmtree(folder_of(store, day) / table)
    return f"{folder_of(store, day).name}/{table}/ is missing"


def loan_table_gone(store: ParquetEngineStore) -> str:
    named = table_gone(store, NIGHT, "loans")
    return f"{named} (the state after the run of {NIGHT}"


def lines_gone(store: ParquetEngineStore) -> str:
    return table_gone(store, NIGHT, "instalment_states")


def run_folder_gone(store: ParquetEngineStore) -> str:
    name = folder_of(store, FIRST).name
    shutil.rmtree(store.folder.state / name)
    return f"{name}/ (the run of {FIRST}) is missing"


def an_old_plan(store: ParquetEngineStore) -> str:
    # Read for the escalation guards' history: every earlier run's plan.
    truncated(folder_of(store, FIRST) / "plan" / "part-0.parquet")
    return f"{folder_of(store, FIRST).name}/plan/part-0.parquet cannot be read"


def payment_ids_kept(store: ParquetEngineStore) -> str:
    a_new_payments_part(store)
    truncated(folder_of(store, FIRST) / "paid_ids" / "part-0.npy")
    return f"{folder_of(store, FIRST).name}/paid_ids/part-0.npy cannot be read"


def payment_ids_header(store: ParquetEngineStore) -> str:
    # numpy's header parser raises a tokenizer's error of its own for this one (helper-46).
    a_new_payments_part(store)
    path = folder_of(store, FIRST) / "paid_ids" / "part-0.npy"
    data = bytearray(path.read_bytes())
    data[10] = ord(" ")
    path.write_bytes(bytes(data))
    return f"{folder_of(store, FIRST).name}/paid_ids/part-0.npy cannot be read"


def promises_gone(store: ParquetEngineStore) -> str:
    # Judged again tonight: read as none, the promises kept were lost without a word.
    return table_gone(store, NIGHT, "promises")


def an_old_plan_gone(store: ParquetEngineStore) -> str:
    # The guards' history: read as none, a heavy action whose gentler steps are on record
    # would be let through.
    return f"{table_gone(store, FIRST, 'plan')} (the run of {FIRST})"


DAMAGES = [loan_table_of_the_night, lines_of_the_night, loan_table_gone, lines_gone,
           run_folder_gone, an_old_plan, payment_ids_kept, payment_ids_header,
           promises_gone, an_old_plan_gone]  # fmt: skip


@pytest.mark.parametrize("damaged", DAMAGES, ids=lambda d: d.__name__)
def test_a_night_over_damaged_state_names_what_and_writes_nothing(
    book: ParquetEngineStore, damaged: Damage
) -> None:
    runs = (book.folder.state / "runs.json").read_text(encoding="utf-8")
    named = damaged(book)
    files = every_file(book)
    with pytest.raises(StateDamaged, match=re.escape(named)):
        run(book, TONIGHT)
    assert (book.folder.state / "runs.json").read_text(encoding="utf-8") == runs
    assert every_file(book) == files
    # The book was let go: the next try runs (and fails the same way).
    with pytest.raises(StateDamaged, match=re.escape(named)):
        run(book, TONIGHT)


def test_a_night_that_writes_a_base_names_the_damage_it_meets_there(
    book: ParquetEngineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A column a night leaves unread of the loans it does not work, read whole only when
    # the night writes a new base: damaged there, the night loads and then fails saving.
    monkeypatch.setattr(parquet_store, "CHAIN_LIMIT", 2)
    path = folder_of(book, FIRST) / "loans" / "part-0.parquet"
    unread = "summary_day"
    assert unread not in {*OWNERS, *EVERY_LOAN, *PICKED}
    chunk = pq.ParquetFile(path).metadata.row_group(0)
    column = next(chunk.column(i) for i in range(chunk.num_columns)
                  if chunk.column(i).path_in_schema == unread)  # fmt: skip
    data = bytearray(path.read_bytes())
    start = column.data_page_offset
    data[start : start + column.total_compressed_size] = bytes(column.total_compressed_size)
    path.write_bytes(bytes(data))
    loaded: list[bool] = []
    original = ParquetEngineStore.load

    def load(store: ParquetEngineStore, ctx: Any) -> Any:
        frames = original(store, ctx)
        loaded.append(True)
        return frames

    monkeypatch.setattr(ParquetEngineStore, "load", load)
    runs = (book.folder.state / "runs.json").read_text(encoding="utf-8")
    with pytest.raises(StateDamaged, match=re.escape(f"{path.parent.parent.name}/loans/part-0")):
        run(book, TONIGHT)
    assert loaded == [True]
    assert (book.folder.state / "runs.json").read_text(encoding="utf-8") == runs


@pytest.mark.parametrize("unread", [False, True], ids=["sound", "an output no run reads"])
def test_a_failure_that_is_not_damage_is_left_as_it_is(
    book: ParquetEngineStore, monkeypatch: pytest.MonkeyPatch, unread: bool
) -> None:
    # A damaged output that no run reads (an old run's refusals) is not taken for the cause
    # of a failure (helper-46: it hid a full disk).
    if unread:
        truncated(folder_of(book, FIRST) / "blocked" / "part-0.parquet")

    def broken(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(book_night, "worked_book", broken)
    with pytest.raises(OSError, match="No space left on device"):
        run(book, TONIGHT)
    previous = book.folder.run_before(TONIGHT)
    assert damage(book.folder, previous, book.state_tables) == []


def test_a_night_looks_for_the_damage_while_it_still_holds_the_book(
    book: ParquetEngineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another run let in meanwhile could commit, and drop the very tables being looked at.
    held: list[bool] = []
    looks = named_damage

    def looking(*args: Any) -> Any:
        try:
            book.folder.hold().close()
        except BookFolderError:
            held.append(True)
        else:
            held.append(False)
        return looks(*args)

    monkeypatch.setattr(parquet_store, "named_damage", looking)
    named = loan_table_of_the_night(book)
    with pytest.raises(StateDamaged, match=re.escape(named)):
        run(book, TONIGHT)
    assert held == [True]


def test_the_error_says_what_the_run_failed_with(book: ParquetEngineStore) -> None:
    loan_table_of_the_night(book)
    with pytest.raises(StateDamaged, match=r"committed nothing \(the run failed with "):
        run(book, TONIGHT)


def test_a_damaged_part_of_the_zones_cache_is_worked_out_again(
    book: ParquetEngineStore, tmp_path: Path
) -> None:
    sound = ParquetEngineStore(tmp_path / "sound")
    shutil.copytree(book.folder.root, sound.folder.root, copy_function=shutil.copy2)
    parts = sorted(zones_folder(book.folder.state).glob("part-*.parquet"))
    assert parts, "the nights kept the zones they worked out"
    for part in parts:
        truncated(part)
    run(book, TONIGHT)
    run(sound, TONIGHT)
    for name in ("plan", "blocked"):
        assert_frame_equal(book.table(TONIGHT, name), sound.table(TONIGHT, name))
    # The zones were kept again, in a part of their own.
    assert len(list(zones_folder(book.folder.state).glob("part-*.parquet"))) == len(parts) + 1

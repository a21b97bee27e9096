"""A ladder's `flags` entry rule, read from the flags people set: referred to legal (the
`legal` flag) through the case work in the SQL store, or given in a Parquet book's `flags`
input; the next run moves the loan into the flagged stage and back once the flag is gone."""

import json
import shutil
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from arrears.adapters.db.tables import cases
from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.batch.run import run_day
from arrears.bootstrap import build_app
from arrears.domain.access import Principal, Role
from arrears.domain.errors import DomainError
from arrears.entrypoints.cli import app
from arrears.services import legal
from tests.adapters.test_parquet_nights import same_state, same_tables
from tests.adapters.test_parquet_store import three_late_loans
from tests.entrypoints.cli_ok import cli_ok, imported, ladder_settings

runner = CliRunner()

LADDER = """
name = "flags-test"
version = 1

[[stage]]
name = "legal"
label_zh = "法律程序"
label_en = "Legal"
[[stage.entry]]
dpd_min = 181
[[stage.entry]]
flags = ["legal"]

[[stage]]
name = "early"
label_zh = "逾期"
label_en = "Overdue"
[[stage.entry]]
dpd_min = 1
"""
LOANS = ("L1", "L2", "L3")  # all 20 days late on 2026-02-20
ADMIN = Principal("admin", Role.ADMIN)


def settings(folder: Path) -> Path:
    return ladder_settings(folder, LADDER)


def stages_on(day: str, config: Path, db: str) -> object:
    return cli_ok("run", "--as-of", day, "--config", str(config), "--json", db=db)["stages"]


def test_a_loan_referred_to_legal_enters_the_flagged_stage_in_the_sql_store(
    store_url: str, tmp_path: Path
) -> None:
    config = settings(tmp_path)
    feeds = {
        "borrowers": "borrower_id,name,phone\n"
        + "".join(f"B{n},张三,1381234567{n}\n" for n in range(1, 4)),
        "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
        + "".join(f"{loan},B{loan[1]},cn-cash,CNY,1000.00,0.24,2025-12-01\n" for loan in LOANS),
        "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
        + "".join(f"{loan},1,2026-01-31,1000.00,10.00\n" for loan in LOANS),
    }  # fmt: skip
    imported(feeds, tmp_path, config, store_url)
    assert stages_on("2026-02-20", config, store_url) == {"early": 3}
    desk = build_app(store_url, str(config))
    day, now = date(2026, 2, 20), datetime(2026, 2, 20, 10, tzinfo=UTC)
    flag = partial(legal.set_flag, desk.desk, desk.track, desk.contact_terms, ADMIN)
    unflag = partial(legal.clear_flag, desk.desk, desk.track, ADMIN)
    try:
        flag("L1", "legal", "says they will never pay", day, now)
        with pytest.raises(DomainError, match="flagged legal already"):
            flag("L1", "legal", "again", day, now)
        with pytest.raises(DomainError, match="flag 'vip' is unknown"):
            flag("L2", "vip", "why", day, now)
        with pytest.raises(DomainError, match="needs a reason"):
            flag("L2", "legal", "  ", day, now)
        assert stages_on("2026-02-21", config, store_url) == {"legal": 1, "early": 2}
        with desk.engine.connect() as conn:
            case = select(cases.c.stage, cases.c.reason).where(cases.c.loan_id == "L1")
            assert conn.execute(case).one() == ("legal", "flag legal")
        unflag("L1", "legal", now)
        with pytest.raises(DomainError, match="not flagged legal"):
            unflag("L1", "legal", now)
    finally:
        desk.engine.dispose()  # its connections: the runs open their own
    assert stages_on("2026-02-22", config, store_url) == {"early": 3}


def book_run(book: Path, day: str, config: Path) -> dict[str, object]:
    result = runner.invoke(app, ["book", "run", "--book", str(book), "--as-of", day,
                                 "--config", str(config), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout)
    return document


def kinds(book: Path) -> list[str]:
    """Each run's kind: base (the whole book read), delta (a night)."""
    return [run.kind for run in ParquetEngineStore(book).folder.runs()]


def test_a_parquet_night_works_the_loans_whose_flags_changed(tmp_path: Path) -> None:
    config, book = settings(tmp_path), tmp_path / "book"
    three_late_loans(book)
    assert book_run(book, "2026-02-20", config)["stages"] == {"early": 3}
    flags = book / "flags.parquet"
    pl.DataFrame({"loan_id": ["L2", "L2"], "flag": ["legal", "legal"]}).write_parquet(flags)
    assert book_run(book, "2026-02-21", config)["stages"] == {"legal": 1, "early": 2}
    # A night, not the whole book: the flagged loan was worked though nothing else woke it.
    assert kinds(book) == ["base", "delta"]
    # The same as a store that works every loan every night, the flag given the same day.
    whole = tmp_path / "whole"
    three_late_loans(whole)
    ctx = build_app(None, str(config)).run_context
    at = datetime(2026, 2, 21, 23, tzinfo=UTC)
    run_day(ParquetEngineStore(whole, work_all=True), ctx(date(2026, 2, 20)), at)
    shutil.copy(flags, whole / "flags.parquet")
    run_day(ParquetEngineStore(whole, work_all=True), ctx(date(2026, 2, 21)), at)
    same_tables(ParquetEngineStore(book), ParquetEngineStore(whole), date(2026, 2, 21))
    same_state(ParquetEngineStore(book), ParquetEngineStore(whole), date(2026, 2, 21))
    flags.unlink()
    assert book_run(book, "2026-02-22", config)["stages"] == {"early": 3}
    assert kinds(book) == ["base", "delta", "delta"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            {"loan_id": ["L1"], "flag": ["vip"]},
            "input flags: a flag not known (known: legal): L1 vip",
        ),
        ({"loan_id": ["L9"], "flag": ["legal"]}, "input flags: a loan not in loans: L9 legal"),
    ],
)
def test_a_bad_flag_in_a_parquet_book_is_refused_by_name(
    tmp_path: Path, rows: dict[str, list[str]], message: str
) -> None:
    config, book = settings(tmp_path), tmp_path / "book"
    three_late_loans(book)
    book_run(book, "2026-02-20", config)  # the first run reads no flags
    pl.DataFrame(rows).write_parquet(book / "flags.parquet")
    result = runner.invoke(app, ["book", "run", "--book", str(book), "--as-of", "2026-02-21",
                                 "--config", str(config)])  # fmt: skip
    assert result.exit_code == 1
    assert message in result.stderr
    assert kinds(book) == ["base"]  # nothing written

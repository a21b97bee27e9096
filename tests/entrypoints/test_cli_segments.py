"""A ladder's entry rules on the lender's segment and score, read from the loans feed's
optional `segment` and `score` columns: in the SQL store and in a Parquet book alike."""

import json
from datetime import date
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from arrears.entrypoints.cli import app
from tests.entrypoints.cli_ok import cli_ok, imported, ladder_settings

runner = CliRunner()

LADDER = """
name = "segments-test"
version = 1

[[stage]]
name = "vip"
label_zh = "贵宾"
label_en = "VIP"
[[stage.entry]]
dpd_min = 1
segments = ["vip"]
[[stage.treatment]]
day = 0
action = "call"
template = "vip_call"

[[stage]]
name = "risky"
label_zh = "高风险"
label_en = "Risky"
[[stage.entry]]
dpd_min = 1
score_max = -1

[[stage]]
name = "early"
label_zh = "逾期"
label_en = "Overdue"
[[stage.entry]]
dpd_min = 1
"""
# L1 in the vip segment, L2 scored -40 (scores may be negative), L3 with neither; all late.
LOANS = [("L1", "vip", "720"), ("L2", "mass", "-40"), ("L3", "", "")]


def settings(folder: Path) -> Path:
    return ladder_settings(folder, LADDER)


def test_stages_enter_by_the_loans_segment_and_score_in_the_sql_store(
    store_url: str, tmp_path: Path
) -> None:
    config = settings(tmp_path)
    feeds = {
        "borrowers": "borrower_id,name,phone\n"
        + "".join(f"B{n},张三,1381234567{n}\n" for n in range(1, 4)),
        "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date,"
        "segment,score\n"
        + "".join(f"{loan},B{loan[1]},cn-cash,CNY,1000.00,0.24,2026-01-01,{seg},{score}\n"
                  for loan, seg, score in LOANS),
        "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
        + "".join(f"{loan},1,2026-01-31,1000.00,10.00\n" for loan, _, _ in LOANS),
    }  # fmt: skip
    imported(feeds, tmp_path, config, store_url)
    ran = cli_ok("run", "--as-of", "2026-02-20", "--config", str(config), "--json", db=store_url)
    assert ran["stages"] == {"vip": 1, "risky": 1, "early": 1}


def test_stages_enter_by_the_loans_segment_and_score_in_a_parquet_book(tmp_path: Path) -> None:
    config, book = settings(tmp_path), tmp_path / "book"
    book.mkdir()
    pl.DataFrame(
        {
            "borrower_id": ["B1", "B2", "B3"],
            "phone": [f"+861381234567{n}" for n in range(1, 4)],
            "timezone": [None, None, None],
        },
        schema_overrides={"timezone": pl.String},
    ).write_parquet(book / "borrowers.parquet")
    pl.DataFrame({
        "loan_id": [loan for loan, _, _ in LOANS], "borrower_id": ["B1", "B2", "B3"],
        "product": "cn-cash", "currency": "CNY", "principal": 100_000, "annual_rate": "0.24",
        "contract_date": date(2026, 1, 1),
        "segment": ["vip", "mass", None], "score": [720, -40, None],
    }).write_parquet(book / "loans.parquet")  # fmt: skip
    pl.DataFrame({
        "loan_id": [loan for loan, _, _ in LOANS], "seq": 1,
        "due_date": date(2026, 1, 31), "principal_due": 100_000,
        "interest_due": 1_000,
    }).write_parquet(book / "installments.parquet")  # fmt: skip
    pl.DataFrame(schema={"payment_id": pl.String, "loan_id": pl.String, "amount": pl.Int64,
                         "paid_on": pl.Date}).write_parquet(book / "payments.parquet")  # fmt: skip
    result = runner.invoke(app, ["book", "run", "--book", str(book), "--as-of", "2026-02-20",
                                 "--config", str(config), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stages"] == {"vip": 1, "risky": 1, "early": 1}

"""The reviewer's case at the command line: a dispute hold stops a loan's clocks when its
product says so (docs/MONEY_RULES.md, "Pauses"), on SQLite and PostgreSQL."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from arrears.entrypoints.cli import app

runner = CliRunner()
FEEDS = {
    "borrowers": "borrower_id,name,phone\nB1,张三,13812345678\n",
    "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
    "L1,B1,cn-cash,CNY,10000.00,0.24,2025-01-01\n",
    "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
    "L1,1,2025-01-31,10000.00,200.00\n",
}
PAUSING = '[products.cn-cash]\npause_ageing = ["dispute"]\npause_charges = ["dispute"]\n'


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(store_url: str, tmp_path: Path) -> str:
    """A database holding one loan due 31 January 2025, disputed 1 February to 31 March."""
    assert cli("init", "--db", store_url)[0] == 0
    for kind, text in FEEDS.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        code, _, err = cli("import", kind, str(path), "--db", store_url)
        assert code == 0, err
    code, _, err = cli("contact", "hold", "--borrower", "B1", "--kind", "dispute", "--from",
                       "2025-02-01", "--until", "2025-03-31", "--db", store_url)  # fmt: skip
    assert code == 0, err
    return store_url


def run_and_look(db: str, config: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    code, out, err = cli("run", "--as-of", "2025-03-15", "--db", db, "--json", *config)
    assert code == 0, err
    summary = json.loads(out)
    code, out, err = cli("loan", "L1", "--as-of", "2025-03-15", "--db", db, "--json", *config)
    assert code == 0, err
    return summary, json.loads(out)


def test_a_dispute_stops_the_clocks_where_the_product_says(db: str, tmp_path: Path) -> None:
    config = tmp_path / "arrears.toml"
    config.write_text(PAUSING, encoding="utf-8")
    summary, loan = run_and_look(db, ["--config", str(config)])
    assert summary["buckets"]["M0"] == 1
    assert summary["penalty_posted"] == "0.00"
    assert (loan["dpd"], loan["bucket"], loan["overdue"]["penalty"]) == (0, "M0", "0.00")
    span = [{"from": "2025-02-01", "until": "2025-03-31"}]
    assert loan["pauses"] == {"ageing": span, "charges": span}


def test_a_shipped_product_stops_only_contacts(db: str) -> None:
    # The shipped cn-cash pauses nothing (lender policy): 43 days past due, penalty posted.
    summary, loan = run_and_look(db, [])
    assert summary["buckets"]["M2"] == 1
    assert (loan["dpd"], loan["bucket"]) == (43, "M2")
    assert loan["overdue"]["penalty"] != "0.00"
    assert loan["pauses"] == {"ageing": [], "charges": []}

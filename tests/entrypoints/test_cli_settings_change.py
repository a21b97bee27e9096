"""A product's terms changed in the settings between two runs: the stored state is what
`arrears loan` says and what one run under the new terms stores, on both stores (the
review's story: a penalty multiplier of 1.5 for the first run, 1.0 for the second)."""

from pathlib import Path

from sqlalchemy import select

from arrears.adapters.db import tables
from arrears.adapters.db.engine import make_engine
from tests.entrypoints.cli_ok import cli_ok as cli

FEEDS = {
    "borrowers": "borrower_id,name,phone\nB1,张三,13812345678\n",
    "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
    "L1,B1,p,CNY,10000.00,0.12,2025-01-01\n",
    "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
    "L1,1,2025-02-01,10000.00,100.00\n",
}


def settings(folder: Path, multiplier: str) -> str:
    """A settings file pricing product p's penalty at `multiplier` × the contract rate."""
    path = folder / f"p-{multiplier}.toml"
    path.write_text(f'[products.p]\njurisdiction = "cn"\npenalty_multiplier = {multiplier}\n')
    return str(path)


def stored_penalty(db: str) -> int:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(tables.loan_states.c.overdue_penalty)).scalar_one())
    finally:
        engine.dispose()


def test_a_changed_penalty_multiplier_reprices_the_loan_from_its_contract_date(
    store_url: str, tmp_path: Path
) -> None:
    before, after = settings(tmp_path, "1.5"), settings(tmp_path, "1.0")
    cli("init", db=store_url)
    for kind, text in FEEDS.items():
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        cli("import", kind, str(tmp_path / f"{kind}.csv"), "--config", before, db=store_url)
    cli("run", "--as-of", "2025-03-01", "--config", before, db=store_url)
    cli("run", "--as-of", "2025-03-31", "--config", after, db=store_url)
    # Past due from 02-01 (grace 3 days, owed from the due date): 10,000.00 × 12 % / 360 =
    # 3.33 a day for 58 days = 193.14, as if the product had always been priced so (at 1.5,
    # 5.00 a day until 03-01 and 3.33 after, the run stored 239.90).
    loan = cli("loan", "L1", "--as-of", "2025-03-31", "--config", after, "--json", db=store_url)
    assert loan["overdue"]["penalty"] == "193.14"  # type: ignore[index]
    assert stored_penalty(store_url) == 19_314
    cli("run", "--as-of", "2025-03-31", "--config", after, db=store_url)  # a re-run: the same
    assert stored_penalty(store_url) == 19_314

"""A US lender's ladder that schedules legal reviews: the night refuses the one on a
time-barred debt under `us.time_barred` (12 CFR 1006.26(b)) and plans the other, on both
stores; a product with a longer limitation period plans both."""

from pathlib import Path

from tests.entrypoints.cli_ok import cli_ok as cli

LADDER = """
name = "us-legal"
version = 1

[[stage]]
name = "legal"
label_zh = "法律"
label_en = "Legal"
heavy = ["legal_review"]

[[stage.entry]]
dpd_min = 120

[[stage.treatment]]
day = 0
action = "legal_review"
template = "us.legal_review"

[guards.legal_review]
[[guards.legal_review.requires]]
action = "call"
outcomes = ["no_answer"]
"""


def book(db: str, folder: Path, limitation: str) -> None:
    """A US borrower with two loans, each of one instalment never paid: L1's fell due
    2023-01-05, L2's 2024-06-03; a call that went unanswered (the guard's gentler step)."""
    (folder / "ladder.toml").write_text(LADDER, encoding="utf-8")
    (folder / "arrears.toml").write_text(
        f'[products.us-installment]\njurisdiction = "us"\ncap = "none"\ngrace_days = 15\n'
        f'late_fee = "25.00"\nstrategy = "ladder.toml"\n{limitation}',
        encoding="utf-8",
    )
    config = ["--config", str(folder / "arrears.toml")]
    feeds = {
        "borrowers": "borrower_id,name,phone,timezone\nB1,Pat,+12125550301,America/New_York\n",
        "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
        "L1,B1,us-installment,USD,1000.00,0.12,2022-12-05\n"
        "L2,B1,us-installment,USD,1000.00,0.12,2024-05-03\n",
        "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
        "L1,1,2023-01-05,1000.00,10.00\nL2,1,2024-06-03,1000.00,10.00\n",
    }
    cli("init", db=db)
    for kind, text in feeds.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
        cli("import", kind, str(folder / f"{kind}.csv"), *config, db=db)
    cli("contact", "log", "--borrower", "B1", "--channel", "call", "--at",
        "2026-01-02T15:00:00-05:00", "--outcome", "no_answer", *config, db=db)  # fmt: skip


def test_the_review_of_a_time_barred_debt_is_refused(store_url: str, tmp_path: Path) -> None:
    book(store_url, tmp_path, "")
    # L1 is time-barred from 2026-01-05, three years after its instalment fell due.
    args = ("run", "--as-of", "2026-01-05", "--json", "--config", str(tmp_path / "arrears.toml"))
    run = cli(*args, db=store_url)
    assert run["stages"] == {"legal": 2}
    assert run["planned_actions"] == {"legal_review": 1}
    assert run["blocked_contacts"] == {"us.time_barred": 1}


def test_a_longer_period_plans_both_reviews(store_url: str, tmp_path: Path) -> None:
    book(store_url, tmp_path, "limitation_years = 6\n")
    args = ("run", "--as-of", "2026-01-05", "--json", "--config", str(tmp_path / "arrears.toml"))
    run = cli(*args, db=store_url)
    assert run["planned_actions"] == {"legal_review": 2}
    assert run["blocked_contacts"] == {}

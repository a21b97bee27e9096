"""Treatments owed to every borrower (ladder `owed`): a loan first seen past the stage that
sends one still gets it, on the first day of the stage it is seen in."""

from pathlib import Path

import pytest

from tests.entrypoints.cli_ok import cli_ok as cli


def book(db: str, folder: Path, product: str, phone: str, zone: str) -> None:
    """One borrower with one loan of 1,000.00 due 2026-02-02, never paid."""
    feeds = {
        "borrowers": f"borrower_id,name,phone,timezone\nB1,Pat,{phone},{zone}\n",
        "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
        f"L1,B1,{product},CNY,1000.00,0.12,2026-01-02\n",
        "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
        "L1,1,2026-02-02,1000.00,10.00\n",
    }
    cli("init", db=db)
    for kind, text in feeds.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
        cli("import", kind, str(folder / f"{kind}.csv"), db=db)


@pytest.mark.parametrize(
    ("product", "phone", "zone", "as_of", "stage", "actions"),
    [
        # 40 days past due: "mid". The validation notice (12 CFR 1006.34) of "early" day 0
        # comes with mid's formal notice.
        ("us-installment", "+12125550301", "America/New_York", "2026-03-14", "mid",
         {"formal_notice": 1, "letter": 1}),
        # 40 days: "arrears". The forbearance offer (CONC 7.3.4R) of "early" day 0, by letter
        # and e-mail, with the notice of sums in arrears.
        ("uk-installment", "+447911123601", "Europe/London", "2026-03-14", "arrears",
         {"formal_notice": 1, "letter": 1, "email": 1}),
        # 100 days: "late". Mid's formal notice and credit-bureau pre-notice come first; the
        # agency placement waits for its guard (calls tried and failed, the notice sent).
        ("cn-cash", "+8613812345678", "Asia/Shanghai", "2026-05-13", "late",
         {"formal_notice": 1, "credit_pre_notice": 1}),
    ],
)  # fmt: skip
def test_a_loan_first_seen_in_a_harsher_stage_gets_what_it_is_owed(
    store_url: str, tmp_path: Path, product: str, phone: str, zone: str, as_of: str,
    stage: str, actions: dict[str, int],
) -> None:  # fmt: skip
    book(store_url, tmp_path, product, phone, zone)
    run = cli("run", "--as-of", as_of, "--json", db=store_url)
    assert run["stages"] == {stage: 1}
    assert run["planned_actions"] == actions

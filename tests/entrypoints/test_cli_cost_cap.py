"""The cost cap on the command line: a loan whose instalments schedule less than it lent (the
rest stays outstanding, in the cap's base too), and a cn product declared without a cap
(refused)."""

from pathlib import Path

from arrears.entrypoints.cli import app
from tests.entrypoints.cli_ok import cli_ok as cli
from tests.entrypoints.cli_ok import runner

# 10,000.00 lent; the one instalment given repays 1,000.00 of it (the rest is not scheduled).
FEEDS = {
    "borrowers": "borrower_id,name,phone\nB1,张三,13812345678\n",
    "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
    "L1,B1,cn-cash,CNY,10000.00,0.24,2026-01-01\n",
    "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
    "L1,1,2026-01-31,1000.00,200.00\n",
    "payments": "payment_id,loan_id,amount,paid_on\nP1,L1,300.00,2026-02-10\n",
}


def test_principal_no_instalment_schedules_is_outstanding_and_in_the_cap(
    store_url: str, tmp_path: Path
) -> None:
    cli("init", db=store_url)
    for kind, text in FEEDS.items():
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        cli("import", kind, str(tmp_path / f"{kind}.csv"), db=store_url)
    # Penalty runs from 02-01 (after the 3 days' grace, owed from the due date on): 1,000.00
    # × 36 % / 360 = 1.00 a day. The 300.00 of 02-10 pays what was owed that morning, down
    # cn-cash's waterfall (fees, penalty, interest, principal): 9.00 of penalty, 200.00 of
    # interest, 91.00 of principal. From 02-10 on, 909.00 × 36 % / 360 = 0.91 a day, 43 days
    # to 03-24: 39.13. The cap (24 % a year on the principal outstanding each day, 算头不算尾)
    # runs on the 10,000.00 lent less what was repaid: (10,000.00 × 40 + 9,909.00 × 42 days)
    # × 24 % / 360 = 544.12, above the 248.13 charged: nothing is cut. Counted on the
    # 1,000.00 the instalment schedules it would be 52.12, below the interest: all cut.
    run = cli("run", "--as-of", "2026-03-24", "--json", db=store_url)
    assert (run["penalty_posted"], run["cap_cut"]) == ("48.13", "0.00")
    loan = cli("loan", "L1", "--as-of", "2026-03-24", "--json", db=store_url)
    assert loan["outstanding_principal"] == "9909.00"
    assert loan["overdue"] == {
        "principal": "909.00", "interest": "0.00", "penalty": "39.13", "fees": "0.00",
        "total": "948.13",
    }  # fmt: skip


def test_a_cn_product_declared_without_a_cap_is_refused_naming_the_file_product_and_key(
    store_url: str, tmp_path: Path
) -> None:
    # China's pack caps every loan, and a lender may only make a pack stricter (REGULATIONS.md):
    # uncapped, a 36 % loan was charged some 53 % a year. Refused before anything is read.
    config = tmp_path / "arrears.toml"
    config.write_text('[products.cn-nocap]\njurisdiction = "cn"\ncap = "none"\n', "utf-8")
    cli("init", db=store_url)
    result = runner.invoke(
        app, ["run", "--as-of", "2026-03-24", "--config", str(config), "--db", store_url]
    )
    assert result.exit_code != 0
    message = " ".join(result.stderr.split())
    assert f"{config}: products.cn-nocap.cap 'none' is refused" in message, message
    assert "choose one of licensed, private" in message

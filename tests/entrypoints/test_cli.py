"""The command line as CONTRACT.md defines it: commands, JSON shapes, exit codes, messages."""

import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from arrears.adapters.db import engine as db_engine
from arrears.entrypoints.cli import app
from arrears.entrypoints.cli_common import fail
from tests.store_copies import Templates, copied_store

runner = CliRunner()

FEEDS = {
    "borrowers": "borrower_id,name,phone\nB1,张三,13812345678\n",
    "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
    "L1,B1,cn-cash,CNY,10000.00,0.24,2026-01-01\n",
    "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
    "L1,1,2026-01-31,10000.00,200.00\n",
}


def cli(*args: str, db: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db])
    return result.exit_code, result.stdout, result.stderr


def _feeds_imported(url: str, folder: Path) -> None:
    """An initialised database holding one loan of 10,000.00 due 2026-01-31, never paid."""
    assert cli("init", db=url)[0] == 0
    for kind, text in FEEDS.items():
        path = folder / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        code, _, err = cli("import", kind, str(path), db=url)
        assert code == 0, err


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, store_templates: Templates) -> Iterator[str]:
    """The database holding one loan (each test's own copy of one made once a session)."""
    with copied_store(request.param, tmp_path, store_templates, "one-loan", _feeds_imported) as url:
        yield url


def test_loan_json_has_the_contract_shape_and_exact_amounts(db: str) -> None:
    # 52 days late: 10,000.00 at 36 % penalty would be 520.00, but the 24 % licensed cap
    # allows 24 % × 10,000.00 × 82 days / 360 = 546.66 in all, of which 200.00 is interest.
    code, out, _ = cli("loan", "L1", "--as-of", "2026-03-24", "--json", db=db)
    assert code == 0
    document = json.loads(out)
    assert {k: document[k] for k in ("loan_id", "as_of", "dpd", "bucket", "stage")} == {
        "loan_id": "L1", "as_of": "2026-03-24", "dpd": 52, "bucket": "M2", "stage": "mid",
    }  # fmt: skip
    assert document["overdue"] == {
        "principal": "10000.00", "interest": "200.00", "penalty": "346.66", "fees": "0.00",
        "total": "10546.66",
    }  # fmt: skip
    assert document["outstanding_principal"] == "10000.00"
    assert document["cap"]["rule"] == "cn.cap.licensed"
    assert "法发〔2017〕22号" in document["cap"]["source"]
    assert sum(int(c["amount"].replace(".", "")) for c in document["cap_cuts"]) == 52_000 - 34_666
    # Each penalty's reason works the rule's day out (10,000.00 × 36 % ÷ 360 = 10.00), then
    # says what the cap left of it: the capped 6.67 was stated as that day's result (found by
    # helper-113).
    penalties = [c["reason"] for c in document["charges"] if c["kind"] == "penalty"]
    assert all("× 36% ÷ 360 = 10.00/day (half-up to the fen)" in r for r in penalties)
    assert penalties[0].endswith("× 2 day(s) 2026-02-01..2026-02-02, owed from 2026-02-04")
    assert ", 6.67/day within the cost cap (the rest cut: cap_cuts) × 2 day(s)" in penalties[2]


def loan_under(settings: str, db: str, tmp_path: Path) -> dict[str, Any]:
    """`arrears loan L1 --json` on 2026-03-24 under these settings (TOML text)."""
    config = tmp_path / "arrears.toml"
    config.write_text(settings, encoding="utf-8")
    code, out, err = cli("loan", "L1", "--as-of", "2026-03-24", "--json", "--config",
                         str(config), db=db)  # fmt: skip
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    assert {c["rule"] for c in document["cap_cuts"]} == {"product.cap"}
    return document


def test_a_products_own_stricter_cap_binds_the_loan_and_is_cited(db: str, tmp_path: Path) -> None:
    # The same loan under the lender's own 12 % cap: 12 % × 10,000.00 × 82 / 360 = 273.33 in
    # all. Its 200.00 of interest is cut on its due date to the 100.00 that 30 days allow, so
    # 173.33 is left for the penalty.
    document = loan_under(
        '[products.cn-cash]\ncap_rate = "0.12"\ncap_source = "Acme 定价政策 3.1"\n', db, tmp_path
    )
    assert (document["overdue"]["interest"], document["overdue"]["penalty"]) == ("100.00", "173.33")
    assert document["cap"] == {
        "rule": "product.cap", "rate": "12%",
        "detail": "12%/yr, the product's own cap, below the pack's 24%/yr",
        "source": "Acme 定价政策 3.1", "total": None, "charged": "273.33", "allowance": "273.33",
    }  # fmt: skip


def test_a_products_cap_on_total_charges_binds_the_loan_and_is_cited(
    db: str, tmp_path: Path
) -> None:
    # The same loan as UK high-cost short-term credit: 0.8 % a day would allow 656.00 by the
    # day, but charges in all may not pass 3 % of the 10,000.00 lent: 200.00 of interest, then
    # 100.00 of penalty, and every fen of penalty after cut.
    document = loan_under(
        '[products.cn-cash]\njurisdiction = "uk"\ncap = "none"\nday_count = 365\n'
        'cap_rate = "2.92"\ncap_source = "FCA CONC 5A.3.2R, 5A.3.3R"\ncap_total = "0.03"\n',
        db, tmp_path,
    )  # fmt: skip
    assert (document["overdue"]["interest"], document["overdue"]["penalty"]) == ("200.00", "100.00")
    assert document["cap"] == {
        "rule": "product.cap", "rate": "292%",
        "detail": "292%/yr, the product's own cap, and charges in all at most 3% of the "
        "principal lent",
        "source": "FCA CONC 5A.3.2R, 5A.3.3R", "total": "3%", "charged": "300.00",
        "allowance": "300.00",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("limit", "late_fees"),
    [
        ("", {"charged": "12.00", "limit": None, "source": None}),
        ('late_fee_total = "5.00"\nlate_fee_source = "FCA CONC 5A.3.18R"\n',
         {"charged": "5.00", "limit": "5.00", "source": "FCA CONC 5A.3.18R"}),
    ],
)  # fmt: skip
def test_a_products_limit_on_late_fees_is_shown_with_what_they_came_to(
    db: str, tmp_path: Path, limit: str, late_fees: dict[str, Any]
) -> None:
    # The same loan as a UK loan charging 12.00 late: under a limit of 5.00 on late fees in
    # all, its one late fee is asked 5.00, and its reason says why.
    config = tmp_path / "arrears.toml"
    config.write_text('[products.cn-cash]\njurisdiction = "uk"\ncap = "none"\nday_count = 365\n'
                      f'late_fee = "12.00"\n{limit}', encoding="utf-8")  # fmt: skip
    code, out, err = cli("loan", "L1", "--as-of", "2026-03-24", "--json", "--config",
                         str(config), db=db)  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert document["late_fees"] == late_fees
    [fee] = [c for c in document["charges"] if c["kind"] == "late_fee"]
    assert fee["amount"] == late_fees["charged"]
    assert fee["reason"].endswith("late fees at most 5.00 in all") == bool(limit)
    assert document["overdue"]["fees"] == late_fees["charged"]


def test_a_loan_is_in_the_stage_its_products_ladder_gives_as_the_run_puts_it(
    store_url: str, tmp_path: Path
) -> None:
    # A US loan 99 days late: its ladder's "mid" (31..119 days), where the Chinese default
    # said "late" (helper-53: `arrears loan` read the default, the run the product's ladder).
    feeds = {
        "borrowers": "borrower_id,name,phone\nB2,Ann Lee,+12125551234\n",
        "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
        "L2,B2,us-installment,USD,1000.00,0.2,2026-01-01\n",
        "installments": "loan_id,seq,due_date,principal_due,interest_due\n"
        "L2,1,2026-01-31,1000.00,10.00\n",
    }
    assert cli("init", db=store_url)[0] == 0
    for kind, text in feeds.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        assert cli("import", kind, str(path), db=store_url)[0] == 0
    code, out, err = cli("run", "--as-of", "2026-05-12", "--json", db=store_url)
    assert code == 0, err
    assert json.loads(out)["stages"] == {"mid": 1}
    code, out, err = cli("loan", "L2", "--as-of", "2026-05-12", "--json", db=store_url)
    assert code == 0, err
    document = json.loads(out)
    assert (document["dpd"], document["stage"]) == (99, "mid")
    assert document["stage_reason"] == "dpd 99 in 31..119"


def test_run_json_counts_the_book_and_posts_the_penalty(db: str) -> None:
    code, out, _ = cli("run", "--as-of", "2026-03-24", "--json", db=db)
    assert code == 0
    document = json.loads(out)
    assert document["as_of"] == "2026-03-24"
    assert document["loans"] == 1
    assert document["buckets"]["M2"] == 1
    assert sum(document["buckets"].values()) == 1
    assert document["stages"]["mid"] == 1
    assert document["penalty_posted"] == "346.66"
    assert document["interest_posted"] == "200.00"
    assert document["fees_posted"] == "0.00"
    assert document["cap_cut"] == "173.34"
    assert document["by_currency"] == {"CNY": {
        "interest_posted": "200.00", "penalty_posted": "346.66", "fees_posted": "0.00",
        "cap_cut": "173.34",
    }}  # fmt: skip
    # The loan enters "mid" today (first run): day 0 of the China ladder's mid stage is a call,
    # the formal notice (催款通知函) and the credit-bureau pre-notice, both as letters.
    assert document["planned_contacts"] == {"call": 1, "letter": 2}
    assert document["planned_actions"] == {"call": 1, "credit_pre_notice": 1, "formal_notice": 1}
    assert document["blocked_contacts"] == {}


def test_a_run_prints_each_currency_on_its_own_line(db: str, tmp_path: Path) -> None:
    # The same loan lent in dollars too: the two currencies' amounts are never added.
    for kind, text in (("loans", "L2,B1,cn-cash,USD,10000.00,0.24,2026-01-01\n"),
                       ("installments", "L2,1,2026-01-31,10000.00,200.00\n")):  # fmt: skip
        path = tmp_path / f"more-{kind}.csv"
        path.write_text(FEEDS[kind].splitlines()[0] + "\n" + text, encoding="utf-8")
        assert cli("import", kind, str(path), db=db)[0] == 0
    code, out, err = cli("run", "--as-of", "2026-03-24", db=db)
    assert code == 0, err
    posted = "interest 200.00, penalty 346.66, fees 0.00, cut by the cost cap 173.34"
    text = " ".join(out.split())  # as printed, wrapped to the terminal's width
    assert text.count("posted since") == 2
    for currency in ("CNY", "USD"):
        assert f"posted since the start in {currency}: {posted}" in text
    document = json.loads(cli("run", "--as-of", "2026-03-24", "--json", db=db)[1])
    assert document["penalty_posted"] == "693.32"  # the contract's key: both added


def test_a_rerun_counts_a_loan_first_imported_after_the_first_run(db: str, tmp_path: Path) -> None:
    # The day run, then the same loan lent in dollars imported: the re-run reports what the
    # day posted for both loans, not for the new one alone.
    assert cli("run", "--as-of", "2026-03-24", db=db)[0] == 0
    for kind, text in (("loans", "L2,B1,cn-cash,USD,10000.00,0.24,2026-01-01\n"),
                       ("installments", "L2,1,2026-01-31,10000.00,200.00\n")):  # fmt: skip
        path = tmp_path / f"more-{kind}.csv"
        path.write_text(FEEDS[kind].splitlines()[0] + "\n" + text, encoding="utf-8")
        assert cli("import", kind, str(path), db=db)[0] == 0
    code, out, err = cli("run", "--as-of", "2026-03-24", "--json", db=db)
    assert code == 0, err
    document = json.loads(out)
    assert (document["penalty_posted"], document["cap_cut"]) == ("693.32", "346.68")
    one = {"interest_posted": "200.00", "penalty_posted": "346.66", "fees_posted": "0.00",
           "cap_cut": "173.34"}  # fmt: skip
    assert document["by_currency"] == {"CNY": one, "USD": one}


def test_a_bad_feed_exits_non_zero_naming_the_row_and_column(db: str, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text(
        "payment_id,loan_id,amount,paid_on\nP1,L1,10.00,2026-02-01\nP2,L1,-5.00,2026-02-02\n"
    )
    code, _, err = cli("import", "payments", str(path), db=db)
    assert code != 0
    assert "payments.csv row 3, column amount" in err
    code, out, _ = cli("loan", "L1", "--as-of", "2026-02-05", "--json", db=db)
    assert json.loads(out)["allocations"] == []  # P1 was not written either


def test_reimporting_payments_changes_nothing(db: str, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text("payment_id,loan_id,amount,paid_on\nP1,L1,10.00,2026-02-01\n")
    assert cli("import", "payments", str(path), db=db)[0] == 0
    code, out, _ = cli("import", "payments", str(path), "--json", db=db)
    assert code == 0
    assert json.loads(out) | {"file": ""} == {
        "kind": "payments", "file": "", "rows": 1, "inserted": 0, "skipped_duplicates": 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("loan", "NOPE", "--as-of", "2026-03-01"), "loan 'NOPE' is not in the database"),
        (("loan", "L1", "--as-of", "2026-02-30"), "--as-of '2026-02-30' is not a date"),
        (("import", "people", "x.csv"), "unknown feed kind 'people'"),
        (("run", "--as-of", "yesterday"), "is not a date"),
        # Forms Python reads as dates but the contract's YYYY-MM-DD is not: never another day.
        (("run", "--as-of", "20260221"), "--as-of '20260221' is not a date (YYYY-MM-DD)"),
        (("run", "--as-of", "2026-W08-5"), "--as-of '2026-W08-5' is not a date"),
        (("loan", "L1", "--as-of", "20260301"), "--as-of '20260301' is not a date"),
        (("run", "--as-of", "0001-01-01"), "'0001-01-01' is outside 1900-01-01..2199-12-31"),
        # A year typed wrong (2205 for 2025) would run the book ahead for good.
        (("run", "--as-of", "2205-11-18"), "'2205-11-18' is outside 1900-01-01..2199-12-31"),
    ],
)
def test_bad_requests_exit_non_zero_with_a_clear_message(
    db: str, args: tuple[str, ...], message: str
) -> None:
    code, out, err = cli(*args, db=db)
    assert code != 0
    assert message in err
    assert out == ""


def test_a_run_over_a_book_without_loans_counts_nothing(store_url: str) -> None:
    assert cli("init", db=store_url)[0] == 0
    code, out, err = cli("run", "--as-of", "2026-03-01", "--json", db=store_url)
    assert code == 0, err
    document = json.loads(out)
    assert document["loans"] == 0
    assert set(document["buckets"].values()) == {0}
    assert document["planned_contacts"] == {}
    assert document["by_currency"] == {}  # no loan, no currency
    code, out, err = cli("run", "--as-of", "2026-03-01", db=store_url)
    assert code == 0, err
    assert "posted since the start: interest 0.00, penalty 0.00" in " ".join(out.split())


def test_commands_refuse_a_database_that_was_never_initialised(tmp_path: Path) -> None:
    code, _, err = cli("run", "--as-of", "2026-03-01", db=f"sqlite:///{tmp_path / 'new.db'}")
    assert code == 1
    assert "run `arrears init` first" in err
    assert not (tmp_path / "new.db").exists()  # nothing left behind by the refusal


def test_the_database_may_be_named_before_the_command(db: str, tmp_path: Path) -> None:
    before = runner.invoke(app, ["--db", db, "loan", "L1", "--as-of", "2026-03-24", "--json"])
    assert before.exit_code == 0, before.stderr
    assert json.loads(before.stdout)["dpd"] == 52
    # The command's own --db wins: the other database, never initialised, is refused.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    own = runner.invoke(app, ["--db", db, "loan", "L1", "--as-of", "2026-03-24", "--db", other])
    assert own.exit_code == 1
    assert "run `arrears init` first" in own.stderr


@pytest.mark.parametrize(
    "args",
    [("init", "--db", ""), ("--db", "", "run", "--as-of", "2026-03-24"),
     ("run", "--as-of", "2026-03-24", "--db", "sqlite://", "--config", ""),
     ("book", "run", "--as-of", "2026-03-24", "--book", ".", "--config", "")],
)  # fmt: skip
def test_an_empty_database_or_settings_option_is_refused(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Taken for left out, `init --db ""` made ./arrears.db (helper-53).
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2
    assert "is empty" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_running_backwards_is_refused(db: str) -> None:
    assert cli("run", "--as-of", "2026-03-24", db=db)[0] == 0
    code, _, err = cli("run", "--as-of", "2026-03-01", db=db)
    assert code == 1
    assert "already run up to 2026-03-24" in err


def test_an_error_prints_as_written_not_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exited:
        fail("add the fixing under [[lpr.fixing]] in the settings file [bold]")
    assert exited.value.exit_code == 1
    assert (
        "add the fixing under [[lpr.fixing]] in the settings file [bold]" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "command",
    [("import", "payments", "PAYMENTS"), ("run", "--as-of", "2026-03-24", "--json")],
)
def test_a_busy_database_is_named_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    # Another process holds SQLite's write lock: a clear exit 1, not a traceback whose
    # statement parameters would print a borrower's data; then the command goes through.
    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    assert cli("init", db=url)[0] == 0
    for kind, text in FEEDS.items():
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        assert cli("import", kind, str(tmp_path / f"{kind}.csv"), db=url)[0] == 0
    payments = tmp_path / "payments.csv"
    payments.write_text("payment_id,loan_id,amount,paid_on\nP1,L1,300.00,2026-02-10\n")
    args = [str(payments) if a == "PAYMENTS" else a for a in command]
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = runner.invoke(app, [*args, "--db", url])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert isinstance(result.exception, SystemExit)  # not the driver's error
    assert result.exit_code == 1
    assert "the database could not do it, nothing was written: database is locked" in (
        result.stderr
    )
    assert result.stdout == ""
    with sqlite3.connect(path) as reader:
        counted = reader.execute("SELECT (SELECT count(*) FROM payments), "
                                 "(SELECT count(*) FROM runs)").fetchone()  # fmt: skip
    assert counted == (0, 0)
    code, _, err = cli(*args, db=url)
    assert code == 0, err


@pytest.mark.parametrize("module", ["arrears", "arrears.entrypoints.cli"])
def test_the_command_runs_as_a_python_module_too(module: str) -> None:
    # `python -m …` runs the module as __main__: the commands' shared parts must not import
    # it back half-made.
    done = subprocess.run([sys.executable, "-m", module, "contact", "--help"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Usage: arrears contact" in done.stdout


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[Any]:
    """Every command of the tree under `command`, with the words that call it."""
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_help_text_prints_the_settings_tables_it_names() -> None:
    # "[channels]" in a help text was read as markup and dropped: "through the gateways of
    # the settings' : each…" (found by helper-110).
    named: set[str] = set()
    for path, command in _commands(typer.main.get_command(app)):
        texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
        bracketed = {found for text in texts for found in re.findall(r"\[[a-z_.]+\]", text)}
        if bracketed:
            shown = " ".join(runner.invoke(app, [*path, "--help"]).stdout.split())
            assert {word for word in bracketed if word not in shown} == set(), path
            named |= bracketed
    assert {"[channels]", "[channels.sms]", "[feeds]"} <= named

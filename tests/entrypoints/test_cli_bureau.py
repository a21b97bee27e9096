"""`arrears bureau export`: a month's credit-bureau records of a jurisdiction's loans, each the
domain's reading of the month's last day, stored with the grid earlier exports make and
withheld where the pack's rule says so; refused, with nothing stored or written, when the
month is not run yet or the command is wrong."""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from typer.testing import CliRunner

from arrears.adapters.db.tables import bureau_records, contact_attempts, contacts, loans, outbox
from arrears.bootstrap import App
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.bureau import NEGATIVE, month_record
from arrears.domain.money import format_amount
from arrears.entrypoints.cli import app as cli_app
from arrears.services.bureau_disputes import open_dispute
from tests.entrypoints.cli_ok import synthetic_store
from tests.store_copies import Templates, copied_app

runner = CliRunner()
END = date(2025, 9, 30)  # the book is run through this day
SEPTEMBER = date(2025, 9, 1)


def export(db: str, out: Path, *more: str, month: str = "2025-09") -> tuple[int, str, str]:
    result = runner.invoke(cli_app, ["bureau", "export", "--pack", "cn", "--month", month,
                                     "--out", str(out), "--db", db, *more])  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def _run_through_september(url: str, folder: Path) -> None:
    """60 Chinese loans lent from January 2025, run through 30 September."""
    synthetic_store(url, folder, END, datetime(2025, 10, 1, 2, tzinfo=UTC)).close()


@pytest.fixture(params=["sqlite", "postgresql"])
def book(
    request: pytest.FixtureRequest, tmp_path: Path, store_templates: Templates
) -> Iterator[App]:
    """60 Chinese loans lent from January 2025, run through 30 September (each test's own
    copy of the book made once a session)."""
    with copied_app(request.param, tmp_path, store_templates, "run-through-september",
                    _run_through_september) as app:  # fmt: skip
        yield app


def read(path: Path) -> list[dict[str, str]]:
    """The file's lines as its header names their values."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def stored(app: App) -> dict[str, dict[str, object]]:
    """The month's stored records by loan."""
    with app.engine.connect() as conn:
        rows = conn.execute(select(bureau_records).where(bureau_records.c.month == SEPTEMBER))
        return {row.loan_id: row._asdict() for row in rows}


def test_the_month_is_furnished_as_the_domain_reads_it_and_negatives_wait_for_notice(
    book: App, tmp_path: Path
) -> None:
    db = book.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "cn-2025-09.csv"
    code, text, err = export(db, out)
    assert code == 0, err
    lines = read(out)
    records = stored(book)
    # Every loan lent by 30 September and not settled before September has its record, as
    # the domain reads the month's last day (the reference).
    expected = {}
    for loan, payments in book.ledger.load_book():
        made = month_record(loan, payments, book.evaluate(loan, payments, END), SEPTEMBER,
                            partial(book.evaluate, loan, payments))  # fmt: skip
        if made is not None:
            expected[loan.loan_id] = made
    assert sorted(records) == sorted(expected)
    for loan_id, made in expected.items():
        row = records[loan_id]
        assert (row["status"], row["balance"], row["overdue"], row["due_in_month"],
                row["paid_in_month"], row["dpd"]) == (made.status, made.balance, made.overdue,
                made.due_in_month, made.paid_in_month, made.dpd), loan_id  # fmt: skip
        assert str(row["grid"]).endswith(made.status)
    # No pre-notice was done in this book: each record telling of money past due is
    # withheld (stored with the rule, not in the file); the others are in the file.
    negative = {i for i, m in expected.items() if m.status in NEGATIVE}
    assert negative, "the book has loans past due"
    assert {i for i, r in records.items() if r["withheld_rule"]} == negative
    assert {line["loan_id"] for line in lines} == set(expected) - negative
    assert all(records[i]["withheld_rule"] == "cn.credit_pre_notice" for i in negative)
    assert text.count("withheld\t") == len(negative)
    assert f"{len(negative)} record(s) withheld under cn.credit_pre_notice" in err
    # Counted on stderr with --json too, as documented (helper-114: not).
    code, document, err = export(db, out, "--json")
    assert code == 0, err
    assert len(json.loads(document)["withheld"]) == len(negative)
    assert f"{len(negative)} record(s) withheld under cn.credit_pre_notice" in err
    first = lines[0]
    assert list(first) == ["month", "loan_id", "borrower_id", "currency", "status", "grid",
                           "dpd", "balance", "overdue", "overdue_principal", "overdue_lines",
                           "due_in_month", "paid_in_month", "last_paid_on"]  # fmt: skip
    assert first["month"] == "2025-09"
    assert first["balance"] == format_amount(int(str(records[first["loan_id"]]["balance"])))
    entry = book.audit_log.entries()[-1].entry
    assert (entry.action, entry.subject) == ("bureau.export", "bureau:cn:2025-09")
    assert entry.detail["withheld"] == len(negative)
    # The pre-notice done for two of them on 20 September: exported again, they are
    # furnished, the others still wait, and the month holds one record a loan.
    told = sorted(negative)[:2]
    # Not told: a pre-notice that failed, one planned for after the month, another letter.
    untold = sorted(negative)[2:5]
    assert len(untold) == 3
    with book.engine.begin() as conn:
        for loan_id, action, outcome, day in (
            (told[0], "credit_pre_notice", "sent", date(2025, 9, 20)),
            (told[1], "credit_pre_notice", None, date(2025, 9, 30)),  # status done
            (untold[0], "credit_pre_notice", "failed", date(2025, 9, 20)),
            (untold[1], "credit_pre_notice", "sent", date(2025, 10, 1)),
            (untold[2], "formal_notice", "sent", date(2025, 9, 20)),
        ):  # fmt: skip
            borrower = conn.execute(
                select(loans.c.borrower_id).where(loans.c.loan_id == loan_id)
            ).scalar_one()
            conn.execute(insert(outbox).values(
                action_key=f"t:{loan_id}:{action}", loan_id=loan_id, borrower_id=borrower,
                action=action, channel="letter", template=f"cn.{action}", planned_for=day,
                stage="mid", arm="champion", status="done", outcome=outcome,
            ))  # fmt: skip
    code, _, err = export(db, out, "--json")
    assert code == 0, err
    again = stored(book)
    assert sorted(again) == sorted(expected)
    assert {i for i, r in again.items() if r["withheld_rule"]} == negative - set(told)
    assert {line["loan_id"] for line in read(out)} == (set(expected) - negative | set(told))


def test_the_grid_reads_what_earlier_months_furnished(book: App, tmp_path: Path) -> None:
    db = book.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "cn.csv"
    assert export(db, out)[0] == 0
    records = stored(book)
    negative = sorted(i for i, r in records.items() if r["status"] in NEGATIVE)
    current = sorted(i for i, r in records.items() if r["status"] == "N")
    # August as an earlier export furnished it: one loan N, a negative one "1" (told then),
    # another's August withheld (it stays unknown and its first negative still waits).
    august = date(2025, 8, 1)
    with book.engine.begin() as conn:
        for loan_id, status, rule in (
            (current[0], "N", None),
            (negative[0], "1", None),
            (negative[1], "1", "cn.credit_pre_notice"),
        ):
            row = dict(records[loan_id], month=august, status=status, withheld_rule=rule)
            conn.execute(insert(bureau_records).values(**row))
    assert export(db, out)[0] == 0
    records = stored(book)
    assert str(records[current[0]]["grid"])[-2:] == "NN"
    assert str(records[negative[0]]["grid"])[-2] == "1"
    assert records[negative[0]]["withheld_rule"] is None  # told before: no new notice
    assert str(records[negative[1]]["grid"])[-2] == "#"
    assert records[negative[1]]["withheld_rule"] == "cn.credit_pre_notice"


def test_a_us_record_waits_until_the_consumer_is_reached(book: App, tmp_path: Path) -> None:
    # 12 CFR 1006.30(a): spoken to, or written to 14 days before, or nothing is furnished.
    # Days are New York's (EDT, UTC-4, in September).
    db = book.engine.url.render_as_string(hide_password=False)
    active = sorted(
        (loan.loan_id, loan.borrower_id)
        for loan, payments in book.ledger.load_book()
        if loan.contract_date < date(2025, 8, 1)
        and month_record(loan, payments, book.evaluate(loan, payments, END), SEPTEMBER,
                         partial(book.evaluate, loan, payments)) is not None
    )[:10]  # fmt: skip
    utc = partial(datetime, tzinfo=UTC)
    cases = [  # (channel, outcome, instant, to a registered contact): furnished?
        ("call", "connected", utc(2025, 9, 28, 15), False, True),
        ("letter", "sent", utc(2025, 9, 16, 15), False, True),  # 14 days before the 30th
        ("letter", "sent", utc(2025, 9, 17, 15), False, False),
        ("call", "no_answer", utc(2025, 9, 10, 15), False, False),
        ("call", "connected", utc(2025, 10, 1, 3, 30), False, True),  # 23:30 on the 30th
        ("call", "connected", utc(2025, 10, 1, 4, 30), False, False),  # 00:30 on 1 October
        ("letter", "failed", utc(2025, 9, 1, 15), False, False),
        ("call", "connected", utc(2025, 9, 20, 15), True, False),  # a third party
        ("call", "connected", utc(2024, 12, 1, 15), False, False),  # before it was lent
    ]
    with book.engine.begin() as conn:
        conn.execute(update(loans).where(loans.c.loan_id.in_([i for i, _ in active]))
                     .values(product="us-installment"))  # fmt: skip
    assert export(db, tmp_path / "cn.csv")[0] == 0  # the cn loans' September, first
    cn_rows = len(stored(book))
    with book.engine.begin() as conn:
        for (_, borrower), (channel, outcome, at, third, _) in zip(active, cases, strict=False):
            contact = None
            if third:
                contact = f"C-{borrower}"
                conn.execute(insert(contacts).values(contact_id=contact, borrower_id=borrower,
                                                     name="x", phone="+12125550100",
                                                     relation="friend"))  # fmt: skip
            conn.execute(insert(contact_attempts).values(
                borrower_id=borrower, contact_id=contact, channel=channel, to_phone=None, at=at,
                outcome=outcome, recorded_at=at, allowed=True, reasons=[]))  # fmt: skip
        # The tenth: never reached, but its August was furnished already.
        last = active[9][0]
        august = {"month": date(2025, 8, 1), "loan_id": last, "jurisdiction": "us",
                  "borrower_id": active[9][1], "status": "N", "grid": "N" * 24, "dpd": 0,
                  "balance": 1, "overdue": 0, "overdue_principal": 0, "overdue_lines": 0,
                  "due_in_month": 0, "paid_in_month": 0, "last_paid_on": None,
                  "withheld_rule": None, "withheld_detail": None,
                  "exported_at": utc(2025, 9, 1)}  # fmt: skip
        conn.execute(insert(bureau_records).values(**august))
    args = ["bureau", "export", "--pack", "us", "--month", "2025-09", "--out",
            str(tmp_path / "us.csv"), "--db", db, "--json"]  # fmt: skip
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    held = {w["loan_id"] for w in document["withheld"]}
    furnished = {line["loan_id"] for line in read(tmp_path / "us.csv")}
    for (loan_id, _), (*_, expected) in zip(active, cases, strict=False):
        assert (loan_id in furnished, loan_id in held) == (expected, not expected), loan_id
    assert last in furnished
    assert all(w["rule"] == "us.passive_collection" for w in document["withheld"])
    assert document["withheld"][0]["source"].startswith("12 CFR 1006.30(a)(1)")
    # A loan moved from the us product back to a cn one: its September is made under cn
    # now, in place of its us record (one record a loan and month).
    with book.engine.begin() as conn:
        conn.execute(update(loans).where(loans.c.loan_id == active[0][0])
                     .values(product="cn-cash"))  # fmt: skip
    assert export(db, tmp_path / "cn.csv")[0] == 0
    assert stored(book)[active[0][0]]["jurisdiction"] == "cn"
    cn_rows += 1
    # The us export took nothing of the cn loans' September.
    with book.engine.connect() as conn:
        r = bureau_records.c
        kept = conn.execute(select(func.count()).select_from(bureau_records).where(
            r.month == SEPTEMBER, r.jurisdiction == "cn")).scalar_one()  # fmt: skip
    assert kept == cn_rows


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--month", "2025-10"), 1,
         "the book was last run for 2025-09-30: 2025-10 is reported once it is run through "
         "its last day, 2025-10-31"),
        (("--month", "2025-9"), 2, "--month: a month is written YYYY-MM"),
        # Other scripts' digits are no month (helper-114: taken, and kept as written).
        (("--month", "２０２５-０９"), 2, "--month: a month is written YYYY-MM"),
        # A month to come is not furnished, however far the book was run (helper-114).
        (("--month", "2999-01"), 1, "2999-01 is not over: it is reported from 2999-02-01"),
        (("--pack", "fr"), 2, "--pack: no pack 'fr'; the packs are cn, uk, us"),
        (("--out", "/nonexistent-dir/x.csv"), 2, "no directory /nonexistent-dir"),
    ],
)  # fmt: skip
def test_a_wrong_export_is_refused_with_nothing_stored_or_written(
    book: App, tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    db = book.engine.url.render_as_string(hide_password=False)
    given = dict(zip(args[::2], args[1::2], strict=True))
    folder = tmp_path / "out"
    folder.mkdir()
    out = given.get("--out", str(folder / "x.csv"))
    result = runner.invoke(cli_app, [
        "bureau", "export", "--pack", given.get("--pack", "cn"),
        "--month", given.get("--month", "2025-09"), "--out", out, "--db", db,
    ])  # fmt: skip
    assert result.exit_code == code
    assert message in " ".join(result.stderr.split())
    with book.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(bureau_records)).scalar_one() == 0
    assert list(folder.iterdir()) == []  # no file, nor the one staged beside it


def test_an_export_that_cannot_put_its_file_in_place_stores_nothing(
    book: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = book.engine.url.render_as_string(hide_password=False)
    folder = tmp_path / "out"
    folder.mkdir()

    def refused(source: object, target: object) -> None:
        raise PermissionError(f"cannot write {target}")

    monkeypatch.setattr("arrears.entrypoints.bureau_file.os.replace", refused)
    code, _, _ = export(db, folder / "cn.csv")
    assert code != 0
    with book.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(bureau_records)).scalar_one() == 0
    assert [e.entry.action for e in book.audit_log.entries()][-1:] != ["bureau.export"]
    assert list(folder.iterdir()) == []  # nor the file staged beside it
    # --out naming a directory is refused before anything is made.
    code, _, err = export(db, folder)
    assert code == 2
    assert "a directory, not a file" in err


def bureau(*args: str, db: str) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, ["bureau", *args, "--db", db])
    return result.exit_code, result.stdout, result.stderr


def test_a_dispute_of_a_furnished_record_is_answered_within_twenty_days(
    book: App, tmp_path: Path
) -> None:
    # 征信业管理条例 第二十五条: checked and answered within 20 days of its receipt.
    db = book.engine.url.render_as_string(hide_password=False)
    assert export(db, tmp_path / "cn.csv")[0] == 0
    records = stored(book)
    furnished = sorted(i for i, r in records.items() if r["withheld_rule"] is None)
    withheld = sorted(i for i, r in records.items() if r["withheld_rule"] is not None)
    before = len(book.audit_log.entries())
    code, out, err = bureau("dispute", "--loan", furnished[0], "--month", "2025-09",
                            "--received", "2025-10-05", "--reason", "我9月已按时还款",
                            "--json", db=db)  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert (made["due_on"], made["rule"], made["state"]) == (
        "2025-10-25",
        "cn.credit_dispute",
        "overdue",
    )  # today is long after it
    # Refused, with nothing stored: a withheld record, a month never exported, a day after
    # today or before the month was over, a blank or too long reason, a loan that is not
    # there, a month not written YYYY-MM.
    for args, code_wanted, message in (
        (("--loan", withheld[0], "--month", "2025-09", "--reason", "x"), 1,
         "no record of '" + withheld[0] + "' for 2025-09 was furnished"),
        (("--loan", furnished[1], "--month", "2025-08", "--reason", "x"), 1,
         "for 2025-08 was furnished"),
        (("--loan", furnished[1], "--month", "2025-09", "--received", "2100-01-01",
          "--reason", "x"), 1, "not on 2100-01-01"),
        (("--loan", furnished[1], "--month", "2025-09", "--received", "2025-09-30",
          "--reason", "x"), 1, "ending on 2025-09-30 is received after it"),
        (("--loan", furnished[1], "--month", "2025-09", "--reason", "  "), 1,
         "a dispute's reason says something"),
        (("--loan", furnished[1], "--month", "2025-09", "--reason", "x" * 2001), 1,
         "a dispute's reason is at most 2000 characters"),
        (("--loan", "NOPE", "--month", "2025-09", "--reason", "x"), 2, "--loan: no loan 'NOPE'"),
        (("--loan", furnished[1], "--month", "2025-9", "--reason", "x"), 2, "--month:"),
    ):  # fmt: skip
        code, _, err = bureau("dispute", *args, db=db)
        assert (code, message in " ".join(err.split())) == (code_wanted, True), args
    assert len(book.audit_log.entries()) == before + 1
    dispute = str(made["dispute_id"])
    code, out, err = bureau("answer", dispute, "--outcome", "upheld", "--note", "记录无误",
                            "--on", "2025-10-27", "--json", db=db)  # fmt: skip
    assert code == 0, err
    assert (json.loads(out)["state"], json.loads(out)["outcome"]) == ("answered_late", "upheld")
    code, _, err = bureau("answer", dispute, "--outcome", "corrected", "--note", "x", db=db)
    assert code == 1
    assert "answered on 2025-10-27 already (upheld)" in err
    for big in ("999", str(2**31 - 1)):
        code, _, err = bureau("answer", big, "--outcome", "upheld", "--note", "x", db=db)
        assert (code, f"no dispute {big}" in err) == (2, True)
    code, _, _ = bureau("answer", str(2**31), "--outcome", "upheld", "--note", "x", db=db)
    assert code == 2  # out of range: a usage error, not a database's overflow
    # A second one, not answered: listed overdue and counted.
    code, _, _ = bureau("dispute", "--loan", furnished[1], "--month", "2025-09", "--received",
                        "2025-10-06", "--reason", "金额不对", db=db)  # fmt: skip
    assert code == 0
    code, out, err = bureau("disputes", "--json", db=db)
    assert code == 0
    listed = json.loads(out)["disputes"]
    assert [(d["loan_id"], d["state"], d["jurisdiction"]) for d in listed] == [
        (furnished[0], "answered_late", "cn"),
        (furnished[1], "overdue", "cn"),
    ]
    assert "1 dispute(s) past the day they are answered by" in err
    code, out, _ = bureau("disputes", db=db)
    assert out.splitlines()[1].split("\t")[-2:] == ["overdue", "-"]  # no outcome yet
    entries = [e.entry for e in book.audit_log.entries()[before:]]
    assert [e.action for e in entries] == ["bureau.dispute", "bureau.answer", "bureau.dispute"]
    assert entries[0].detail["dispute"] == made["dispute_id"]
    assert entries[0].detail["rule"] == "cn.credit_dispute"
    assert (entries[1].detail["dispute"], entries[1].detail["late"]) == (made["dispute_id"], True)
    # helper-96: a dispute follows the pack its record was furnished under, not the loan's
    # product now. A cn record of a loan since moved to a us product keeps cn's 20 days; a
    # record furnished under the us pack, which sets no deadline, is refused.
    with book.engine.begin() as conn:
        conn.execute(update(loans).where(loans.c.loan_id == furnished[2])
                     .values(product="us-installment"))  # fmt: skip
        conn.execute(update(bureau_records).where(bureau_records.c.loan_id == furnished[3])
                     .values(jurisdiction="us"))  # fmt: skip
    moved = ("--loan", furnished[2], "--month", "2025-09", "--received", "2025-10-10")
    code, out, err = bureau("dispute", *moved, "--reason", "x", "--json", db=db)
    assert code == 0, err
    assert (json.loads(out)["rule"], json.loads(out)["due_on"]) == ("cn.credit_dispute",
                                                                    "2025-10-30")  # fmt: skip
    code, _, err = bureau("dispute", "--loan", furnished[3], "--month", "2025-09", "--reason",
                          "x", db=db)  # fmt: skip
    assert (code, "the us pack sets no deadline for disputes" in err) == (1, True)


def test_an_answer_made_meanwhile_leaves_the_other_unwritten(book: App) -> None:
    # Two answers read the dispute unanswered; the second's write finds it answered and
    # changes nothing, with no audit entry.
    with book.engine.begin() as conn:
        loan_id = conn.execute(select(loans.c.loan_id)).scalars().first()
        conn.execute(insert(bureau_records).values(
            month=SEPTEMBER, loan_id=loan_id, jurisdiction="cn", borrower_id="B", status="N",
            grid="N" * 24, dpd=0, balance=0, overdue=0, overdue_principal=0, overdue_lines=0,
            due_in_month=0, paid_in_month=0,
            exported_at=datetime(2025, 10, 1, tzinfo=UTC)))  # fmt: skip
    at = datetime(2025, 10, 3, 2, tzinfo=UTC)
    made = open_dispute(book.bureau, book.contact_terms.packs, str(loan_id), "2025-09",
                        date(2025, 10, 2), "x", at)  # fmt: skip
    entry = AuditEntry(at, "setup", "bureau.answer", f"loan:{loan_id}", {})
    answer = {"answered_on": date(2025, 10, 3), "outcome": "upheld", "answer": "a",
              "answered_at": at}  # fmt: skip
    assert book.bureau.answer_dispute(made.dispute_id, answer, entry) is True
    count = len(book.audit_log.entries())
    assert book.bureau.answer_dispute(made.dispute_id, {**answer, "outcome": "corrected"},
                                      entry) is False  # fmt: skip
    assert len(book.audit_log.entries()) == count
    stored_now = book.bureau.dispute(made.dispute_id)
    assert stored_now is not None
    assert stored_now.outcome == "upheld"

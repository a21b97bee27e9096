"""Every kind of bad input is refused with its row and column, and nothing of the file is written.

Each case is a feed file whose row 2 is valid and whose later rows are bad, imported on top of
the valid book of tests/feed_files.py (borrowers B1, B2; loans L1 from 2026-01-01, L2; ...).
"""

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from arrears.adapters.db.ledger_store import SqlLedgerStore
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.adapters.settings import load_settings
from arrears.services.feed import FeedError, FeedKind, FeedRejected
from arrears.services.import_feed import import_feed
from tests.feed_files import PRODUCTS, import_book, import_file, row_counts

# Each feed's file starts with a valid row 2; a case adds its bad rows after it.
VALID = {
    "borrowers": "borrower_id,name,phone\nB9,王五,13800000000\n",
    "contacts": "contact_id,borrower_id,name,phone,relation\nC9,B1,赵六,13900000000,friend\n",
    "loans": "loan_id,borrower_id,product,currency,principal,annual_rate,contract_date\n"
    "L9,B1,cn-cash,CNY,100.00,0.18,2026-01-01\n",
    "installments": "loan_id,seq,due_date,principal_due,interest_due,fee_due\n"
    "L1,9,2026-09-01,0.00,0.00,\n",
    "payments": "payment_id,loan_id,amount,paid_on\nP9,L1,1.00,2026-02-01\n",
}
NO_BORROWER = "borrower B404 is not in the database (import borrowers first)"
NO_LOAN = "loan L404 is not in the database (import loans first)"
PHONE = "'12345' is not a valid phone number (write +country code, e.g. +8613812345678)"
RATE_RANGE = "rate '18' is outside 0..10 (a decimal fraction: 0.18 = 18 %/yr)"
BORROWER_COLUMNS = "borrower_id, name, phone, national_id, email, address, timezone, locale"

Error = tuple[int | None, str | None, str]


@dataclass(frozen=True)
class Case:
    """Bad rows added to a valid feed (or a whole file), and the errors they must give."""

    kind: FeedKind
    rows: str
    errors: list[Error]
    whole_file: bool = False

    @property
    def text(self) -> str:
        """The file's content."""
        return self.rows if self.whole_file else VALID[self.kind] + self.rows


def _file(kind: FeedKind, text: str, *errors: Error) -> Case:
    """A whole bad file."""
    return Case(kind, text, list(errors), whole_file=True)


def _row(kind: FeedKind, rows: str, *errors: Error) -> Case:
    """Bad rows after a valid one."""
    return Case(kind, rows, list(errors))


CASES = {
    "missing column": _file(
        "payments",
        "payment_id,loan_id,paid_on\nP9,L1,2026-02-01\n",
        (None, "amount", "missing required column"),
    ),
    "unknown column": _file(
        "borrowers",
        "borrower_id,name,phone,nmae\nB9,a,13800000000,b\n",
        (None, "nmae", f"unknown column (expected {BORROWER_COLUMNS})"),
    ),
    "unsupported extension": _file(
        "payments", "", (None, None, "unsupported file type '.txt': use .csv or .parquet")
    ),
    "wrong field count": _row(
        "payments", "P10,L1,1.00\n", (3, None, "has 3 fields, the header has 4")
    ),
    "empty required cell": _row(
        "borrowers", "B10,,13800000001\n", (3, "name", "required value is empty")
    ),
    "NUL byte in a name": _row(
        "borrowers",
        "B10,x\x00y,13800000001\n",
        (3, "name", "holds a NUL byte (U+0000) at character 2: text may hold none"),
    ),
    "bad phone": _row("contacts", "C10,B1,a,12345,friend\n", (3, "phone", PHONE)),
    "bad time zone": _file(
        "borrowers",
        "borrower_id,name,phone,timezone\nB9,a,13800000000,Asia/Shanghai\nB10,b,13800000001,China\n",
        (3, "timezone", "'China' is not an IANA time zone (e.g. Asia/Shanghai)"),
    ),
    "bad e-mail": _file(
        "borrowers",
        "borrower_id,name,phone,email\nB9,a,13800000000,a@b.cn\nB10,b,13800000001,nobody\n",
        (3, "email", "'nobody' is not an e-mail address"),
    ),
    "borrower twice in the file": _row(
        "borrowers",
        "B9,again,13800000001\n",
        (3, "borrower_id", "borrower_id B9 appears again (first at row 2)"),
    ),
    "borrower already stored": _row(
        "borrowers",
        "B1,again,13800000001\n",
        (3, "borrower_id", "borrower B1 is already in the database"),
    ),
    "contact of an unknown borrower": _row(
        "contacts", "C10,B404,a,13900000001,friend\n", (3, "borrower_id", NO_BORROWER)
    ),
    "contact already stored": _row(
        "contacts",
        "C1,B1,a,13900000001,friend\n",
        (3, "contact_id", "contact C1 is already in the database"),
    ),
    "unknown product": _row(
        "loans",
        "L10,B1,payday,CNY,100.00,0.18,2026-01-01\n",
        (3, "product", "'payday' is not a known product (cn-cash, cn-private)"),
    ),
    "bad currency": _row(
        "loans",
        "L10,B1,cn-cash,rmb,100.00,0.18,2026-01-01\n",
        (3, "currency", "'rmb' is not a currency code (e.g. CNY)"),
    ),
    # Amounts are kept in hundredths: a yen loan was charged in fractions of a yen (helper-113).
    "currency without cents": _row(
        "loans",
        "L10,B1,cn-cash,JPY,100.00,0.18,2026-01-01\n",
        (
            3,
            "currency",
            "JPY has 0 decimal places in ISO 4217, but amounts are kept to two "
            "decimals: only a currency of two decimals (CNY, USD, GBP, …) can be lent",
        ),
    ),
    "currency in thousandths": _row(
        "loans",
        "L10,B1,cn-cash,KWD,100.00,0.18,2026-01-01\n",
        (
            3,
            "currency",
            "KWD has 3 decimal places in ISO 4217, but amounts are kept to two "
            "decimals: only a currency of two decimals (CNY, USD, GBP, …) can be lent",
        ),
    ),
    "zero principal": _row(
        "loans",
        "L10,B1,cn-cash,CNY,0.00,0.18,2026-01-01\n",
        (3, "principal", "0.00 must be more than 0"),
    ),
    "negative principal": _row(
        "loans",
        "L10,B1,cn-cash,CNY,-100.00,0.18,2026-01-01\n",
        (3, "principal", "-100.00 is negative"),
    ),
    "rate out of range": _row(
        "loans", "L10,B1,cn-cash,CNY,100.00,18,2026-01-01\n", (3, "annual_rate", RATE_RANGE)
    ),
    # Kept as 0 (past the decimals' range), the first; hours to make exact, one further out.
    "rate below the decimals' range": _row(
        "loans",
        "L10,B1,cn-cash,CNY,100.00,1E-4000000,2026-01-01\n",
        (
            3,
            "annual_rate",
            "'1E-4000000' is not a rate (a decimal fraction such as 0.18, of at most 64 digits)",
        ),
    ),
    "rate with a huge exponent": _row(
        "loans",
        "L10,B1,cn-cash,CNY,100.00,1E-999999999,2026-01-01\n",
        (
            3,
            "annual_rate",
            "'1E-999999999' is not a rate (a decimal fraction such as 0.18, of at most 64 digits)",
        ),
    ),
    "rate not a number": _row(
        "loans",
        "L10,B1,cn-cash,CNY,100.00,18%,2026-01-01\n",
        (3, "annual_rate", "'18%' is not a rate (a decimal fraction such as 0.18)"),
    ),
    "impossible date": _row(
        "loans",
        "L10,B1,cn-cash,CNY,100.00,0.18,2026-02-30\n",
        (3, "contract_date", "2026-02-30 is not a real calendar date"),
    ),
    "date in another format": _row(
        "loans",
        "L10,B1,cn-cash,CNY,100.00,0.18,2026/01/01\n",
        (3, "contract_date", "'2026/01/01' is not a date (YYYY-MM-DD)"),
    ),
    "loan of an unknown borrower": _row(
        "loans", "L10,B404,cn-cash,CNY,100.00,0.18,2026-01-01\n", (3, "borrower_id", NO_BORROWER)
    ),
    "loan already stored": _row(
        "loans",
        "L1,B1,cn-cash,CNY,100.00,0.18,2026-01-01\n",
        (3, "loan_id", "loan L1 is already in the database"),
    ),
    "instalment of an unknown loan": _row(
        "installments", "L404,1,2026-09-01,1.00,0.00,\n", (3, "loan_id", NO_LOAN)
    ),
    "zero sequence number": _row(
        "installments", "L1,0,2026-09-01,0.00,0.00,\n", (3, "seq", "0 must be 1 or more")
    ),
    "sequence number not a number": _row(
        "installments", "L1,ten,2026-09-01,0.00,0.00,\n", (3, "seq", "'ten' is not a whole number")
    ),
    "due on the contract date": _row(
        "installments",
        "L1,10,2026-01-01,0.00,0.00,\n",
        (3, "due_date", "due date 2026-01-01 is not after the loan's contract date 2026-01-01"),
    ),
    "negative principal due": _row(
        "installments", "L1,10,2026-09-01,-1.00,0.00,\n", (3, "principal_due", "-1.00 is negative")
    ),
    "interest to the tenth of a fen": _row(
        "installments",
        "L1,10,2026-09-01,0.00,0.125,\n",
        (3, "interest_due", "0.125 has more than 2 decimals (money is exact)"),
    ),
    "negative fee": _row(
        "installments", "L1,10,2026-09-01,0.00,0.00,-0.01\n", (3, "fee_due", "-0.01 is negative")
    ),
    "instalment twice in the file": _row(
        "installments",
        "L1,9,2026-10-01,0.00,0.00,\n",
        (3, "seq", "loan_id L1, seq 9 appears again (first at row 2)"),
    ),
    "instalments scheduling more than the loan lent": _row(
        "installments",
        "L1,10,2026-10-01,0.01,0.00,\n",
        (
            3,
            "principal_due",
            "loan L1's instalments schedule 10000.01 of principal by this row, more than the "
            "10000.00 it lent",
        ),
    ),
    "instalment already stored": _row(
        "installments",
        "L1,2,2026-10-01,0.00,0.00,\n",
        (3, "seq", "loan L1 already has instalment 2 in the database"),
    ),
    "instalment already stored, given again with its principal": _row(
        "installments",
        "L1,2,2026-03-01,1000.00,0.00,\n",
        (3, "seq", "loan L1 already has instalment 2 in the database"),
    ),
    "zero payment": _row(
        "payments", "P10,L1,0.00,2026-02-01\n", (3, "amount", "0.00 must be more than 0")
    ),
    "negative payment": _row(
        "payments", "P10,L1,-5.00,2026-02-01\n", (3, "amount", "-5.00 is negative")
    ),
    "payment in scientific notation": _row(
        "payments",
        "P10,L1,1e3,2026-02-01\n",
        (3, "amount", "'1e3' is not an amount (e.g. 1234.56)"),
    ),
    "payment before the contract": _row(
        "payments",
        "P10,L1,1.00,2025-12-31\n",
        (3, "paid_on", "paid on 2025-12-31, before the loan's contract date 2026-01-01"),
    ),
    "payment of an unknown loan": _row(
        "payments", "P10,L404,1.00,2026-02-01\n", (3, "loan_id", NO_LOAN)
    ),
    "payment twice in the file": _row(
        "payments",
        "P9,L1,1.00,2026-02-01\n",
        (3, "payment_id", "payment_id P9 appears again (first at row 2)"),
    ),
    "several errors at once": _row(
        "payments",
        "P10,L404,-1,2026-02-30\n,L1,1.00,2026-02-01\n",
        (3, "loan_id", NO_LOAN),
        (3, "amount", "-1 is negative"),
        (3, "paid_on", "2026-02-30 is not a real calendar date"),
        (4, "payment_id", "required value is empty"),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_and_nothing_is_written(
    migrated: Engine, tmp_path: Path, case: Case
) -> None:
    import_book(migrated, tmp_path)
    before = row_counts(migrated)
    suffix = "txt" if "unsupported" in case.errors[0][2] else "csv"
    path = tmp_path / f"bad.{suffix}"
    path.write_text(case.text, encoding="utf-8")
    with pytest.raises(FeedRejected) as rejection:
        import_file(migrated, case.kind, path)
    found = [(error.row, error.column, error.message) for error in rejection.value.errors]
    assert sorted(found, key=str) == sorted(case.errors, key=str)
    assert row_counts(migrated) == before


def test_a_bad_parquet_row_is_numbered_like_a_csv_row(migrated: Engine, tmp_path: Path) -> None:
    import_book(migrated, tmp_path)
    before = row_counts(migrated)
    path = tmp_path / "bad.parquet"
    columns = {"payment_id": ["P9", "P10"], "loan_id": ["L1", "L1"], "amount": ["1.00", "-5.00"]}
    pq.write_table(pa.table({**columns, "paid_on": ["2026-02-01", "2026-02-01"]}), path)
    with pytest.raises(FeedRejected) as rejection:
        import_file(migrated, "payments", path)
    assert rejection.value.errors == [FeedError(3, "amount", "-5.00 is negative")]
    assert "bad.parquet row 3, column amount: -5.00 is negative" in str(rejection.value)
    assert row_counts(migrated) == before


def test_a_parquet_float_money_column_is_refused(migrated: Engine, tmp_path: Path) -> None:
    import_book(migrated, tmp_path)
    path = tmp_path / "floats.parquet"
    columns = {"payment_id": ["P9"], "loan_id": ["L1"], "amount": pa.array([1.0], pa.float32())}
    pq.write_table(pa.table({**columns, "paid_on": ["2026-02-01"]}), path)
    with pytest.raises(FeedRejected, match="column amount: is a floating-point column"):
        import_file(migrated, "payments", path)


def test_a_loan_whose_cost_cap_cannot_be_resolved_is_refused(
    migrated: Engine, tmp_path: Path
) -> None:
    # A private loan is capped at 4 x the one-year LPR in force on its contract date: signed
    # after the last fixing the settings know, no run could price it (nor any other loan).
    import_book(migrated, tmp_path)
    before = row_counts(migrated)
    path = tmp_path / "loans.csv"
    path.write_text(
        VALID["loans"] + "L10,B1,cn-private,CNY,1000.00,0.10,2026-01-01\n"
        "L11,B1,cn-private,CNY,1000.00,0.10,2025-06-01\n",
        encoding="utf-8",
    )
    settings = load_settings(None)
    with pytest.raises(FeedRejected) as rejection:
        import_feed(SqlLedgerStore(migrated), FileFeedReader(), "loans", path, PRODUCTS,
                    pricing=settings)  # fmt: skip
    found = [(error.row, error.column, error.message) for error in rejection.value.errors]
    assert found == [
        (3, "contract_date", f"product cn-private: the one-year LPR in force on 2026-01-01 is "
         f"not in the table (known through {settings.lpr.known_through}); add the fixing under "
         f"[[lpr.fixing]] in the settings file"),
    ]  # fmt: skip
    assert row_counts(migrated) == before


def test_a_loan_past_the_engines_int64_arithmetic_is_refused_by_its_cause(
    migrated: Engine, tmp_path: Path
) -> None:
    # Taken, such a loan stopped every later run of the whole book. The run's own limits,
    # each named at the column at fault: the rate too precise, or the principal too large.
    import_book(migrated, tmp_path)
    before = row_counts(migrated)
    path = tmp_path / "loans.csv"
    path.write_text(
        "loan_id,borrower_id,product,currency,principal,annual_rate,penalty_rate,contract_date\n"
        "L9,B1,cn-cash,CNY,50000.00,0.18,,2026-01-01\n"
        "L10,B1,cn-cash,CNY,50000.00,0.1234567890123,,2026-01-01\n"
        "L11,B1,cn-cash,CNY,50000.00,0.18,0.2718281828459045,2026-01-01\n"
        "L12,B1,cn-cash,CNY,999999999999.00,0.18,,2026-01-01\n"
        "L13,B1,cn-cash,CNY,100.00,0.1800000000000000001,,2026-01-01\n",
        encoding="utf-8",
    )
    with pytest.raises(FeedRejected) as rejection:
        import_feed(SqlLedgerStore(migrated), FileFeedReader(), "loans", path, PRODUCTS,
                    pricing=load_settings(None))  # fmt: skip
    found = [(error.row, error.column, error.message) for error in rejection.value.errors]
    precise = "is too precise for the columnar engine's exact Int64 arithmetic"
    fewer = "use a rate with fewer decimals"
    assert found == [
        (3, "annual_rate", f"rate 0.1234567890123 {precise} on principal 50000.00 (at this rate "
         f"a principal may be at most 6216.05; {fewer})"),
        (4, "penalty_rate", f"rate 0.2718281828459045 {precise} on principal 50000.00 (at this "
         f"rate a principal may be at most 35.79; {fewer})"),
        (5, "principal", "principal 999999999999.00 is too large for the columnar engine's exact "
         "Int64 arithmetic (under its cost cap of 24%/yr a principal may be at most "
         "70146325865.36)"),
        (6, "annual_rate", f"rate 0.1800000000000000001 {precise}: {fewer}"),
    ]  # fmt: skip
    assert row_counts(migrated) == before

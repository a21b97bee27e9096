"""The ledger store: the book read back exactly, key lookups, and bulk inserts all or nothing."""

from datetime import date
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from arrears.adapters.db import lookups, tables
from arrears.adapters.db.bulk import bulk_insert
from arrears.adapters.db.ledger_store import SqlLedgerStore
from arrears.domain.loan import Installment, Loan, Payment
from arrears.services.ports import KeyQuery, StoreConflict, StoredPayment
from tests.feed_files import row_counts

# Rates as stored (decimal text) and as the domain must see them (exact fractions).
RATES = {
    "0.18": Fraction(18, 100),
    "0.2399": Fraction(2399, 10_000),
    "0.000001": Fraction(1, 10**6),
}
RATES |= {"0.365": Fraction(365, 1000), "0": Fraction(0)}


def _loan(loan_id: str, rate: str, penalty: str | None, seqs: int) -> Loan:
    schedule = tuple(
        Installment(seq, date(2026, 1 + seq, 1), 333_333 + seq, 4_567 * seq, seq % 2)
        for seq in range(1, seqs + 1)
    )
    penalty_rate = None if penalty is None else RATES[penalty]
    contract = date(2026, 1, 1)
    return Loan(
        loan_id, "B1", "cn-cash", "CNY", 1_000_001, RATES[rate], contract, schedule, penalty_rate
    )


BOOK = [
    (_loan("L1", "0.18", None, 3), [Payment("P1", 1, date(2026, 2, 1))]),
    (_loan("L2", "0.2399", "0.365", 1), []),
    (
        _loan("L3", "0.000001", "0", 0),
        [Payment("P3", 99_999_999_999_99, date(2026, 3, 2)), Payment("P2", 5, date(2026, 3, 1))],
    ),
]
TEXTS = {rate: text for text, rate in RATES.items()}


def _store(engine: Engine) -> None:
    """Write BOOK through bulk_insert."""
    with engine.begin() as connection:
        bulk_insert(
            connection, tables.borrowers, ("borrower_id", "name", "phone"), [("B1", "n", "+86")]
        )
        for loan, payments in BOOK:
            penalty = None if loan.penalty_rate is None else TEXTS[loan.penalty_rate]
            terms = (loan.product, loan.currency, loan.principal, TEXTS[loan.annual_rate], penalty)
            row = (loan.loan_id, "B1", *terms, loan.contract_date, None, None)
            bulk_insert(connection, tables.loans, [c.name for c in tables.loans.columns], [row])
            bulk_insert(
                connection,
                tables.installments,
                [c.name for c in tables.installments.columns],
                [(loan.loan_id, *vars(line).values()) for line in loan.installments],
            )
            bulk_insert(
                connection,
                tables.payments,
                ("payment_id", "loan_id", "amount", "paid_on"),
                [(p.payment_id, loan.loan_id, p.amount, p.paid_on) for p in payments],
            )


def test_the_book_reads_back_exactly(migrated: Engine) -> None:
    _store(migrated)
    loaded = list(SqlLedgerStore(migrated).load_book())
    expected = [(loan, sorted(paid, key=lambda p: p.paid_on)) for loan, paid in BOOK]
    assert loaded == expected
    assert loaded[0][0].penalty_rate is None
    assert loaded[2][1][1].amount == 99_999_999_999_99  # BIGINT minor units, to the fen


def test_some_loans_can_be_read_and_unknown_ids_are_ignored(migrated: Engine) -> None:
    _store(migrated)
    loaded = list(SqlLedgerStore(migrated).load_book(["L3", "L2", "nope"]))
    assert [loan.loan_id for loan, _ in loaded] == ["L2", "L3"]
    assert [p.payment_id for p in loaded[1][1]] == ["P2", "P3"]


def test_lookups_name_the_stored_keys_only(
    migrated: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(migrated)
    monkeypatch.setattr(lookups, "LOOKUP_CHUNK", 2)  # several queries a lookup
    monkeypatch.setattr(lookups, "POSTGRES_LOOKUP_CHUNK", 2)
    many = frozenset(f"X{i}" for i in range(5)) | {"L1", "L3"}
    with migrated.connect() as connection:
        stored = lookups.stored_keys(
            connection,
            KeyQuery(
                borrowers=frozenset({"B1", "B2"}),
                loans=many,
                installments_of=frozenset({"L1", "L2"}),
                payments=frozenset({"P1", "P9"}),
            ),
        )
    assert stored.borrowers == {"B1"}
    assert stored.loans == {"L1": date(2026, 1, 1), "L3": date(2026, 1, 1)}
    assert stored.installments == {("L1", 1), ("L1", 2), ("L1", 3), ("L2", 1)}
    assert stored.payments == {"P1": StoredPayment("L1", 1, date(2026, 2, 1))}
    assert stored.contacts == frozenset()


def test_a_clashing_bulk_insert_writes_nothing(migrated: Engine) -> None:
    _store(migrated)
    before = row_counts(migrated)
    rows = [("P8", "L1", 1, date(2026, 2, 1)), ("P1", "L1", 1, date(2026, 2, 1))]
    with pytest.raises(StoreConflict, match="refused"), migrated.begin() as connection:
        bulk_insert(
            connection, tables.payments, ("payment_id", "loan_id", "amount", "paid_on"), rows
        )
    assert row_counts(migrated) == before

"""Existing-key lookups for feed validation: which of a feed's keys the store already holds."""

from collections.abc import Collection, Iterator
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Select, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from arrears.adapters.db import tables
from arrears.services.ports import KeyQuery, StoredKeys, StoredPayment

# Ids a query names at once: well under SQLite's bound-parameter limit. PostgreSQL takes them
# as one array parameter (`= ANY(:ids)`), five times faster than thousands of bound values.
LOOKUP_CHUNK = 5_000
POSTGRES_LOOKUP_CHUNK = 100_000


def _chunks(ids: Collection[str], size: int) -> Iterator[list[str]]:
    """The ids in sorted chunks (sorted: the same file gives the same queries)."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def rows_for_keys(
    connection: Connection, query: Select[Any], key: Column[str], ids: Collection[str]
) -> Iterator[Any]:
    """Rows of `query` whose `key` is one of the ids, fetched a chunk of ids at a time."""
    if connection.dialect.name == "postgresql":
        matching = query.where(key == any_(bindparam("ids", type_=ARRAY(String))))
        for chunk in _chunks(ids, POSTGRES_LOOKUP_CHUNK):
            yield from connection.execute(matching, {"ids": chunk})
        return
    for chunk in _chunks(ids, LOOKUP_CHUNK):
        yield from connection.execute(query.where(key.in_(chunk)))


def stored_borrowers(connection: Connection, ids: Collection[str]) -> set[str]:
    """The borrower ids already stored."""
    key = tables.borrowers.c.borrower_id
    return {str(row[0]) for row in rows_for_keys(connection, select(key), key, ids)}


def stored_contacts(connection: Connection, ids: Collection[str]) -> set[str]:
    """The contact ids already stored."""
    key = tables.contacts.c.contact_id
    return {str(row[0]) for row in rows_for_keys(connection, select(key), key, ids)}


def stored_loans(connection: Connection, ids: Collection[str]) -> dict[str, tuple[date, int]]:
    """The loan ids already stored, with their contract dates and principals."""
    loans = tables.loans.c
    query = select(loans.loan_id, loans.contract_date, loans.principal)
    return {
        str(loan_id): (_date(day), int(principal))
        for loan_id, day, principal in rows_for_keys(connection, query, loans.loan_id, ids)
    }


def stored_installments(
    connection: Connection, loan_ids: Collection[str]
) -> tuple[set[tuple[str, int]], dict[str, int]]:
    """The (loan id, seq) of every stored instalment of these loans, and the principal each
    loan's stored instalments schedule."""
    rows = tables.installments.c
    query = select(rows.loan_id, rows.seq, rows.principal_due)
    keys: set[tuple[str, int]] = set()
    scheduled: dict[str, int] = {}
    for loan_id, seq, principal_due in rows_for_keys(connection, query, rows.loan_id, loan_ids):
        keys.add((str(loan_id), int(str(seq))))
        scheduled[str(loan_id)] = scheduled.get(str(loan_id), 0) + int(principal_due)
    return keys, scheduled


def stored_payments(connection: Connection, ids: Collection[str]) -> dict[str, StoredPayment]:
    """The payment ids already stored, with what they paid (loan, amount, day)."""
    rows = tables.payments.c
    query = select(rows.payment_id, rows.loan_id, rows.amount, rows.paid_on)
    return {
        str(payment_id): StoredPayment(str(loan_id), int(amount), _date(day))
        for payment_id, loan_id, amount, day in rows_for_keys(
            connection, query, rows.payment_id, ids
        )
    }


def stored_keys(connection: Connection, query: KeyQuery) -> StoredKeys:
    """Everything a feed's validation needs to know of the keys it mentions."""
    loans = stored_loans(connection, query.loans)
    installments, scheduled = stored_installments(connection, query.installments_of)
    return StoredKeys(
        borrowers=frozenset(stored_borrowers(connection, query.borrowers)),
        contacts=frozenset(stored_contacts(connection, query.contacts)),
        loans={loan_id: day for loan_id, (day, _) in loans.items()},
        installments=frozenset(installments),
        payments=stored_payments(connection, query.payments),
        principals={loan_id: principal for loan_id, (_, principal) in loans.items()},
        scheduled=scheduled,
    )


def _date(value: object) -> date:
    """A date column's value (SQLAlchemy returns `date` on both stores)."""
    assert isinstance(value, date)
    return value

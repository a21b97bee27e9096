"""The loan book read in bulk: loans with their schedules and payments as domain objects.

Three streamed queries (loans, instalments, payments), each ordered by loan id, merged in one
pass: a few queries for the whole book instead of three per loan.
"""

from collections.abc import Collection, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Select, select

from arrears.adapters.db import tables
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.rates import parse_rate

BOOK_CHUNK = 2_000  # loan ids a query names when only some loans are wanted
STREAM_ROWS = 10_000  # rows fetched at a time while streaming the book

_GROUP_KEY = itemgetter(0)


def load_book(
    connection: Connection, loan_ids: Collection[str] | None = None
) -> Iterator[tuple[Loan, list[Payment]]]:
    """Every loan (or the given ones, unknown ids ignored) with its schedule and payments."""
    if loan_ids is None:
        yield from _load(connection, None)
        return
    ordered = sorted(set(loan_ids))
    for start in range(0, len(ordered), BOOK_CHUNK):
        yield from _load(connection, ordered[start : start + BOOK_CHUNK])


def _load(connection: Connection, ids: list[str] | None) -> Iterator[tuple[Loan, list[Payment]]]:
    """Merge the three ordered streams into loans."""
    loans, schedules, payments = tables.loans.c, tables.installments.c, tables.payments.c
    loan_rows = _stream(connection, select(tables.loans).order_by(loans.loan_id), ids)
    schedule_query = select(
        schedules.loan_id,
        schedules.seq,
        schedules.due_date,
        schedules.principal_due,
        schedules.interest_due,
        schedules.fee_due,
    ).order_by(schedules.loan_id, schedules.seq)
    payment_query = select(
        payments.loan_id, payments.payment_id, payments.amount, payments.paid_on
    ).order_by(payments.loan_id, payments.paid_on, payments.payment_id)
    schedule_groups = _Groups(_stream(connection, schedule_query, ids))
    payment_groups = _Groups(_stream(connection, payment_query, ids))
    for row in loan_rows:
        installments = tuple(Installment(*line[1:]) for line in schedule_groups.take(row.loan_id))
        paid = [Payment(line[1], line[2], line[3]) for line in payment_groups.take(row.loan_id)]
        yield _loan(row, installments), paid


def _stream(connection: Connection, query: Select[Any], ids: list[str] | None) -> Iterator[Any]:
    """Rows of a query on the loan-id column, streamed, restricted to `ids` when given."""
    if ids is not None:
        loan_id = query.selected_columns["loan_id"]
        query = query.where(loan_id.in_(ids))
    return iter(connection.execution_options(yield_per=STREAM_ROWS).execute(query))


class _Groups:
    """Consecutive rows of one loan id, taken in the order the loans are read."""

    def __init__(self, rows: Iterator[Any]) -> None:
        """Group rows ordered by loan id (first column)."""
        self._groups = groupby(rows, key=_GROUP_KEY)
        self._head = next(self._groups, None)

    def take(self, loan_id: str) -> list[Any]:
        """The rows of this loan; none when the next group belongs to a later loan."""
        # Every stream is ordered by loan id under the same collation, so equality suffices.
        if self._head is None or self._head[0] != loan_id:
            return []
        rows = list(self._head[1])
        self._head = next(self._groups, None)
        return rows


def _loan(row: Any, installments: tuple[Installment, ...]) -> Loan:
    """A domain loan from its row; rates are exact fractions of their stored decimal text."""
    return Loan(
        loan_id=row.loan_id,
        borrower_id=row.borrower_id,
        product=row.product,
        currency=row.currency,
        principal=row.principal,
        annual_rate=parse_rate(row.annual_rate),
        contract_date=row.contract_date,
        installments=installments,
        penalty_rate=None if row.penalty_rate is None else parse_rate(row.penalty_rate),
        segment=row.segment,
        score=row.score,
    )

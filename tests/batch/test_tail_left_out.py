"""A store may leave out a loan's lines that nothing can reach tonight (book.TAIL_SCHEMA):
the ledger then ends exactly where it ends with every line given."""

from datetime import date, timedelta
from fractions import Fraction

import polars as pl
import pytest

from arrears.batch.advance import advance
from arrears.batch.book import TAIL_SCHEMA, Book
from arrears.domain.calendar import BusinessCalendar
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.terms import Terms
from tests.batch.domain_book import book_of
from tests.batch.test_engine_agrees_with_domain import LPR, POLICIES, products

START = date(2026, 1, 1)
PAID_ON = START + timedelta(days=45)  # the first instalment (day 30) is past due by then
DAY = START + timedelta(days=50)  # the run: the other instalments (days 60, 90) are ahead
CALENDAR = BusinessCalendar(frozenset(), frozenset(), frozenset(range(2025, 2028)))
TERMS = Terms(products(3, 0, ("fees", "penalty", "interest", "principal"), "licensed", "none"),
              POLICIES, LPR, lambda _j, _a, _b: CALENDAR)  # fmt: skip


def _state_before(paid: int) -> Book:
    """The loan run up to the day before the run's first day, its payment still to come."""
    items = tuple(
        Installment(seq, START + timedelta(days=30 * seq), 100_000, 2_000, 0) for seq in (1, 2, 3)
    )
    loan = Loan("L1", "B", "p", "CNY", 300_000, Fraction("0.24"), START, items, None)
    book = book_of([(loan, [Payment("P1", paid, PAID_ON)])], TERMS)
    return advance(book, PAID_ON - timedelta(days=3), TERMS)[0]


def _tail_left_out(book: Book) -> Book:
    """The book with the lines due after DAY left out, what they add up to on the loan."""
    later = book.instalments.filter(pl.col("due_date") > DAY)
    first = later.get_column("due_date").min()
    tail = pl.DataFrame({
        "tail_principal": [int((later["principal_due"] - later["paid_principal"]).sum())],
        "tail_penalty": [0], "tail_open": [True], "tail_next_due": [first],
        "tail_first_due": [first],
    }, schema=TAIL_SCHEMA)  # fmt: skip
    loans = pl.concat([book.loans, tail], how="horizontal")
    return Book(loans, book.instalments.filter(pl.col("due_date") <= DAY), book.payments)


@pytest.mark.parametrize("paid", [30_000, 102_000])  # part of the first instalment, most of it
def test_money_that_cannot_reach_the_lines_left_out_ends_the_same(paid: int) -> None:
    before = _state_before(paid)
    given = advance(before, DAY, TERMS)[0].loans
    left_out = advance(_tail_left_out(before), DAY, TERMS)[0].loans
    assert left_out.get_column("principal_days").item() > 0
    for column in ("charged", "principal_days", "credit", "state_date"):
        assert left_out.get_column(column).to_list() == given.get_column(column).to_list(), column

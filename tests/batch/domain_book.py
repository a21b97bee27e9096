"""Build columnar books from domain loans, and compare the engine with evaluate_loan."""

from decimal import Decimal
from fractions import Fraction

import polars as pl

from arrears.batch.book import Book, fresh_instalments, fresh_loans, scheduled_principal
from arrears.batch.pauses import loan_pauses
from arrears.batch.revisions import revision_frame
from arrears.batch.terms_frame import loan_terms
from arrears.domain.contact import Hold
from arrears.domain.loan import Loan, Payment
from arrears.domain.revisions import Revision
from arrears.domain.terms import Terms

HOLD_SCHEMA = {"borrower_id": pl.String, "kind": pl.String, "starts_on": pl.Date,
               "ends_on": pl.Date}  # fmt: skip


def holds_frame(holds: dict[str, list[Hold]]) -> pl.DataFrame:
    """Holds by borrower as the holds table (feeds and the database) gives them."""
    return pl.DataFrame(
        [(borrower, h.kind, h.starts_on, h.ends_on) for borrower, mine in holds.items()
         for h in mine],
        schema=HOLD_SCHEMA, orient="row",
    )  # fmt: skip


def rate_text(rate: Fraction | None) -> str | None:
    """A Fraction with a finite decimal expansion as exact decimal text."""
    if rate is None:
        return None
    text = format(Decimal(rate.numerator) / Decimal(rate.denominator), "f")
    assert Fraction(text) == rate, rate
    return text


def book_of(
    loans: list[tuple[Loan, list[Payment]]],
    terms: Terms,
    holds: dict[str, list[Hold]] | None = None,
    revisions: dict[str, list[Revision]] | None = None,
) -> Book:
    """The columnar book of domain loans, before any run (with the pauses their borrowers'
    `holds` make under their products, and the loans' `revisions`)."""
    loan_rows = pl.DataFrame(
        [
            {"loan_id": loan.loan_id, "borrower_id": loan.borrower_id, "product": loan.product,
             "contract_date": loan.contract_date, "principal": loan.principal,
             "annual_rate": rate_text(loan.annual_rate),
             "penalty_rate": rate_text(loan.penalty_rate)}
            for loan, _ in loans
        ],
        schema={"loan_id": pl.String, "borrower_id": pl.String, "product": pl.String,
                "contract_date": pl.Date, "principal": pl.Int64, "annual_rate": pl.String,
                "penalty_rate": pl.String},
    )  # fmt: skip
    schedule = pl.DataFrame(
        [
            {"loan_id": loan.loan_id, "seq": i.seq, "due_date": i.due_date, "eff_due": None,
             "principal_due": i.principal_due, "interest_due": i.interest_due,
             "fee_due": i.fee_due}
            for loan, _ in loans
            for i in loan.installments
        ],
        schema={"loan_id": pl.String, "seq": pl.Int64, "due_date": pl.Date, "eff_due": pl.Date,
                "principal_due": pl.Int64, "interest_due": pl.Int64, "fee_due": pl.Int64},
    )  # fmt: skip
    payments = pl.DataFrame(
        [
            {"payment_id": p.payment_id, "loan_id": loan.loan_id, "amount": p.amount,
             "paid_on": p.paid_on}
            for loan, pays in loans
            for p in pays
        ],
        schema={"payment_id": pl.String, "loan_id": pl.String, "amount": pl.Int64,
                "paid_on": pl.Date},
    )  # fmt: skip
    fresh = fresh_loans(loan_terms(loan_rows, terms), scheduled_principal(schedule))
    pauses = loan_pauses(fresh, holds_frame(holds or {}), terms.products)
    revised = revision_frame(
        (loan_id, r) for loan_id, mine in (revisions or {}).items() for r in mine
    )
    return Book(fresh, fresh_instalments(schedule), payments, pauses=pauses, revisions=revised)


def renewed(book: Book, fresh: Book, loan_ids: list[str]) -> Book:
    """The book with some loans as `fresh` has them (before any run): what a store does to a
    loan it works again from its contract date."""
    if not loan_ids:
        return book
    mine = pl.col("loan_id").is_in(loan_ids)
    loans = pl.concat([book.loans.filter(~mine), fresh.loans.filter(mine)]).sort("loan_id")
    lines = pl.concat([book.instalments.filter(~mine), fresh.instalments.filter(mine)])
    return book.with_frames(loans=loans, instalments=lines.sort("loan_id", "due_date", "seq"))

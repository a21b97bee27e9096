"""What the borrower portal shows a borrower: each of their own loans, every amount owed with
its reason (the domain's evaluation, as the case view and `arrears loan --json` show it)."""

from datetime import datetime
from typing import Any

from arrears.bootstrap import App
from arrears.domain.money import format_amount
from arrears.domain.statement import LoanState
from arrears.entrypoints.presenters import loan_document
from arrears.entrypoints.web.views import balance_day


def portal_statement(app: App, borrower_id: str, now: datetime) -> list[dict[str, Any]]:
    """The borrower's loans as of the balance day (the last end-of-day run's), each with its
    balance document, what falls due next, and its cost cap's detail in Words."""
    as_of = balance_day(app, now)
    loans = []
    for loan, payments in app.ledger.load_book(app.portal.loan_ids(borrower_id)):
        if loan.borrower_id != borrower_id:  # never another's: the query asked by borrower
            raise AssertionError(f"loan {loan.loan_id} is not {borrower_id}'s")
        state = app.evaluate(loan, payments, as_of)
        product = app.settings.product(loan.product)
        loans.append({
            "loan_id": loan.loan_id,
            "product": loan.product,
            "currency": loan.currency,
            "principal": format_amount(loan.principal),
            "contract_date": loan.contract_date.isoformat(),
            "balance": loan_document(state, loan.currency, loan.product, product.day_count),
            "next_due": next_due(state),
            "cap_detail": state.cap_rule.detail,
        })  # fmt: skip
    return loans


def next_due(state: LoanState) -> dict[str, str] | None:
    """The first instalment not yet past due with something still owed on it: its day (as an
    extension moved it) and what it asks (principal, interest and fees still unpaid: before
    its day, as scheduled); None when none is left."""
    ahead = [(line.effective_due_date or line.due_date, line) for line in state.installments
             if not line.past_due and line.principal + line.interest + line.fees > 0]  # fmt: skip
    if not ahead:
        return None
    day, line = min(ahead, key=lambda pair: (pair[0], pair[1].seq))
    owed = line.principal + line.interest + line.fees
    return {"due_date": day.isoformat(), "amount": format_amount(owed)}

"""What the borrower portal shows a borrower: each of their own loans, every amount owed with
its reason (the domain's evaluation, as the case view and `arrears loan --json` show it), and
what they asked for on it."""

from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Any

from arrears.bootstrap import App
from arrears.domain.calendar import effective_due_date
from arrears.domain.loan import Loan
from arrears.domain.money import format_amount
from arrears.domain.statement import LoanState
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.presenters import loan_document
from arrears.entrypoints.web.views import balance_day, proposal_document
from arrears.services.portal_requests import requests_of


def _due_on(app: App, loan: Loan, due: date) -> date:
    """A contractual due date of the loan as its product's holiday rule makes it effective."""
    terms = app.terms.for_loan(loan, due)  # its calendar reaches the year after `due`
    return effective_due_date(due, terms.product.holiday_rule, terms.calendar)


def portal_statement(app: App, borrower_id: str, now: datetime) -> list[dict[str, Any]]:
    """The borrower's loans as of the balance day (the last end-of-day run's), each with its
    balance document, what falls due next, its cost cap's detail in Words, and their
    requests on it: whether they may ask for a change (something past due, nothing waiting
    for a decision) and what they asked."""
    as_of = balance_day(app, now)
    loans = []
    # By contract date, as loan_ids gives them (the book loads them by loan id: helper-116).
    ids = app.portal.loan_ids(borrower_id)
    order = {loan_id: n for n, loan_id in enumerate(ids)}
    for loan, payments in sorted(app.ledger.load_book(ids), key=lambda lp: order[lp[0].loan_id]):
        if loan.borrower_id != borrower_id:  # never another's: the query asked by borrower
            raise AssertionError(f"loan {loan.loan_id} is not {borrower_id}'s")
        state = app.evaluate(loan, payments, as_of)
        product = app.settings.product(loan.product)
        record = app.desk.case(loan.loan_id)
        proposals = record.proposals if record is not None else []
        waiting = any(p["status"] == "pending" for p in proposals)
        loans.append({
            "loan_id": loan.loan_id,
            "product": loan.product,
            "currency": loan.currency,
            "principal": format_amount(loan.principal),
            "contract_date": loan.contract_date.isoformat(),
            "balance": loan_document(state, loan.currency, loan.product, product.day_count),
            "next_due": next_due(state, partial(_due_on, app, loan)),
            # A plan or an extension restructures what is past due (approvals.Proposal); one
            # waiting, the borrower's or the desk's, is decided first.
            "may_ask": state.overdue.total > 0 and not waiting,
            "waiting": waiting,
            "cap_detail": state.cap_rule.detail,
            "requests": [_asked(p) for p in requests_of(proposals)],
        })  # fmt: skip
    return loans


def _asked(proposal: Any) -> dict[str, Any]:
    """A request as the portal shows it, with the desk's day it was asked on (`asked_on`):
    the day its one-a-day limit and its grant count in (its instant is kept in UTC)."""
    return {**proposal_document(proposal), "asked_on": desk_day(proposal["proposed_at"])}


def statement_state(app: App, loan_id: str, now: datetime) -> LoanState:
    """One loan's state on the statement's day (the balance day), as the portal shows it."""
    [(loan, payments)] = list(app.ledger.load_book([loan_id]))
    return app.evaluate(loan, payments, balance_day(app, now))


def next_due(state: LoanState, due_on: Callable[[date], date]) -> dict[str, str] | None:
    """The next instalment with something owed on it that is not yet past due (its effective
    due date, as the loan's statement counts it, is the balance day or later): its day and
    what it asks (principal, interest and fees still unpaid: as scheduled before its day);
    None when none is left. `due_on`: the effective due date of a contractual one (a line not
    yet posted has none: the product's holiday rule moves it, as it will when posted)."""
    ahead = []
    for line in state.installments:
        owed = line.principal + line.interest + line.fees
        day = line.effective_due_date or due_on(line.due_date)
        if owed > 0 and day >= state.as_of:
            ahead.append((day, line.seq, owed))
    if not ahead:
        return None
    day, _, owed = min(ahead)
    return {"due_date": day.isoformat(), "amount": format_amount(owed)}

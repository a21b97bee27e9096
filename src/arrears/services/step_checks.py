"""What the desk's heavy steps (a field visit, a legal step) are judged by besides the case
and track stores: the ladder's escalation guard, the loan's state on the step's day (nothing
is collected from a loan that owes nothing), its time bar, the contact rules (a lawyer's
letter is a letter to the borrower; a hold stops a filing too), and the agencies its pack lets
a case be placed with. Bootstrap wires them (`App.step_terms`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from arrears.domain.contact import ContactDecision
from arrears.domain.errors import DomainError, Refusal, Term
from arrears.domain.ladder import Ladder
from arrears.domain.legal_deadlines import DeadlineRule
from arrears.domain.limitation import TimeBar
from arrears.domain.outsourcing import OutsourcingRule
from arrears.domain.statement import LoanState
from arrears.services.contact_check import ContactTerms, holds_on_day
from arrears.services.ports import ContactStore


@dataclass(frozen=True)
class StepTerms:
    """The loan-specific rules a desk step is judged by."""

    ladder_of: Callable[[str], Ladder]  # the loan's strategy ladder
    state_on: Callable[[str, date], LoanState]  # the domain's evaluation of the loan on a day
    time_bar_of: Callable[[str, date], TimeBar | None]  # its pack's limitation rule that day
    contacts: ContactStore  # the borrower's contact file: attempts, holds, opt-outs
    contact_terms: ContactTerms  # the contact rule packs
    deadline_rule_of: Callable[[str], DeadlineRule | None]  # its pack's deadline of a judgment
    # its pack's outsourcing rule (the agencies a case may be placed with), None: none
    outsourcing_of: Callable[[str], OutsourcingRule | None]


def settled_on(state: LoanState) -> bool:
    """Whether the loan owes nothing at all at the end of the state's day (no instalment
    open: the ladders' `settled`)."""
    return not any(line.open for line in state.installments)


def check_owes(terms: StepTerms, loan_id: str, step: str, on: date) -> None:
    """Refuse a legal step on a loan that owes nothing on its day (settled: STRATEGY.md,
    nothing is collected from a loan that owes nothing)."""
    if settled_on(terms.state_on(loan_id, on)):
        raise Refusal(
            "loan {loan_id} owes nothing on {on}: no {step} on a settled loan",
            loan_id=repr(loan_id),
            on=on.isoformat(),
            step=Term(f"legal:{step}", step),
        )


def check_past_due(terms: StepTerms, loan_id: str, on: date) -> None:
    """Refuse a field visit to a borrower whose loan owes nothing past due on the day: a
    visit collects arrears (as a placement places them: assignment.place_case)."""
    if terms.state_on(loan_id, on).overdue.total <= 0:
        raise Refusal(
            "loan {loan_id} owes nothing past due on {on}: no field visit",
            loan_id=repr(loan_id),
            on=on.isoformat(),
        )


class StepBlocked(DomainError):
    """The contact rules forbid a desk step on its day (a hold, an opt-out of letters, no
    lawful time): the rule's details are English, as a blocked contact's."""

    def __init__(self, what: str, on: date, decision: ContactDecision) -> None:
        broken = "; ".join(f"{r.rule}: {r.detail}" for r in decision.broken)
        super().__init__(f"the rules forbid {_article(what)} {what} on {on.isoformat()}: {broken}")
        self.what = what
        self.on = on
        self.decision = decision


def check_not_held(terms: StepTerms, borrower_id: str, what: str, on: date) -> ContactDecision:
    """The packs' hold rules on the borrower's `on` (StepBlocked when one holds): a step that
    presses for payment without contacting anyone (a placement, a visit, a filing) stops
    under a hold as a contact does, and as the night's plan stops it (batch/contact_plan.py,
    PRESSING)."""
    decision = holds_on_day(terms.contacts, terms.contact_terms, borrower_id, on)
    if not decision.allowed:
        raise StepBlocked(what, on, decision)
    return decision


def _article(word: str) -> str:
    """English's article before a step's name (an agency_placement, a filing)."""
    return "an" if word[:1] in "aeiou" else "a"

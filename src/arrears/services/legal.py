"""Use cases of the legal track: a lawyer's letter opens it (once the ladder's guard finds
the notice sent and the agency tried), then filing (once the letter went out: the guard of
`legal_review`), preservation, judgment, enforcement, closing; and the flags on a loan
(domain.flags: `legal` refers it to the legal track, which the ladders' entry rules read)."""

from datetime import date, datetime

from arrears.domain.access import Permission, Principal, require
from arrears.domain.contact import ContactDecision
from arrears.domain.content_lint import LintedText
from arrears.domain.errors import Refusal, Term, Words
from arrears.domain.escalation import check_escalation
from arrears.domain.flags import check_flag, check_reason
from arrears.domain.legal_deadlines import deadline_after
from arrears.domain.legal_track import LegalStep, check_next, reopens
from arrears.services.casework import audit, open_case, require_case, written_on_loan
from arrears.services.casework_ports import AuditLog, CaseStore
from arrears.services.contact_check import (
    ContactTerms,
    decide_on_day,
    holds_on_day,
    reason_document,
)
from arrears.services.content_check import audit_findings, findings_document
from arrears.services.field_visit import GuardRefused
from arrears.services.step_checks import StepBlocked, StepTerms, check_owes
from arrears.services.track_ports import TrackStore

# The ladder action whose guard a legal step must pass first (and whose limitation rule).
GUARDED_BY = {"lawyers_letter": "lawyers_letter", "filing": "legal_review"}
# The steps that press the borrower to pay, refused on a loan that owes nothing on their day
# (a judgment is the court's and is recorded whatever; closing is always possible).
COLLECTING = frozenset({"lawyers_letter", "filing", "preservation", "enforcement"})


class TimeBarred(Refusal):
    """The pack's limitation rule refuses the step: the debt is time-barred on its day (the
    domain's words, domain.limitation.refusal)."""

    def __init__(self, why: Words) -> None:
        super().__init__(why.template, **why.values)


def add_legal_step(
    cases: CaseStore,
    track: TrackStore,
    log: AuditLog,
    terms: StepTerms,
    who: Principal,
    loan_id: str,
    step: LegalStep,
    today: date,
    now: datetime,
) -> None:
    """Record the next step of a case's legal track, taken on or before the desk's `today`,
    with its cost and any legal deadline; refused on a loan that owes nothing on the step's
    day, on a time-barred debt where the loan's pack says so (domain.limitation), until the
    ladder's escalation guard is met, and where the contact rules forbid it on its day: a
    lawyer's letter is a letter to the borrower (as the night sends it), a filing stops
    under the packs' holds (StepBlocked; the refusal audited with its rules, and the rules
    kept with the step when it is recorded)."""
    require(who, Permission.LEGAL)
    record = open_case(cases, who, loan_id)
    if step.on > today:
        # A step dated ahead would also lock out every real step dated before it.
        raise Refusal(
            "a legal step is recorded once taken: {on} is after {today}",
            on=step.on.isoformat(),
            today=today.isoformat(),
        )
    current = track.legal_case(loan_id)
    steps = current["steps"] if current else []
    check_next([s["step"] for s in steps], step, steps[-1]["on"] if steps else None)
    if step.step in COLLECTING:
        check_owes(terms, loan_id, step.step, step.on)
    action = GUARDED_BY.get(step.step)
    if action is not None:
        bar = terms.time_bar_of(loan_id, step.on)
        why = bar.refusal(action, step.on) if bar is not None else None
        if why is not None:
            raise TimeBarred(why)
        ladder = terms.ladder_of(loan_id)
        decision = check_escalation(ladder, action, track.history(loan_id), step.on)
        if not decision.allowed:
            raise GuardRefused(action, decision.words)
    rules = _contact_rules(terms, record.borrower["borrower_id"], step)
    if rules is not None and not rules.allowed:
        broken = [reason_document(r) for r in rules.broken]
        log.record(audit(now, who, "legal.refused", f"loan:{loan_id}", step=step.step,
                         on=step.on.isoformat(), rules=broken))  # fmt: skip
        raise StepBlocked(step.step, step.on, rules)
    track.add_step(
        loan_id,
        step,
        deadline_after(step, terms.deadline_rule_of(loan_id)),
        who.user_id,
        audit(
            now,
            who,
            f"legal.{step.step}",
            f"loan:{loan_id}",
            on=step.on.isoformat(),
            cost=step.cost,
            court=step.court,
            case_number=step.case_number,
            **({} if rules is None else {"rules": [reason_document(r) for r in rules.reasons]}),
            **({"reopened": True} if reopens([s["step"] for s in steps]) else {}),
        ),
    )


def _contact_rules(terms: StepTerms, borrower_id: str, step: LegalStep) -> ContactDecision | None:
    """What the contact rules say of a step on its day (None: they have no say in it)."""
    if step.step == "lawyers_letter":
        return decide_on_day(terms.contacts, terms.contact_terms, borrower_id, "letter", step.on)
    if step.step == "filing":
        return holds_on_day(terms.contacts, terms.contact_terms, borrower_id, step.on)
    return None


def set_flag(
    cases: CaseStore,
    track: TrackStore,
    terms: ContactTerms,
    who: Principal,
    loan_id: str,
    name: str,
    reason: str,
    on: date,
    now: datetime,
) -> LintedText:
    """Set a flag on a case (refused if it is set already), with the reason, on desk day `on`;
    the next run reads it. The reason is kept as written with what the content rules of the
    loan's pack find in it (never refused for that, the audit entry naming their rules): the
    reason as kept."""
    flag = check_flag(name)
    require_case(cases, who, loan_id)  # out of scope: not found, before what the role may do
    require(who, flag.permission)
    why = written_on_loan(terms, cases.product_of(loan_id), check_reason(reason))
    assert why is not None, "check_reason refuses a blank reason"
    entry = audit(now, who, "flag.set", f"loan:{loan_id}", flag=name, reason=why.text,
                  **audit_findings(why))  # fmt: skip
    if not track.set_flag(loan_id, name, on, who.user_id, why.text, entry, now,
                          findings_document(why)):  # fmt: skip
        raise Refusal(
            "loan {loan_id} is flagged {flag} already",
            loan_id=repr(loan_id),
            flag=Term(f"flag:{name}", name),
        )
    return why


def clear_flag(
    cases: CaseStore, track: TrackStore, who: Principal, loan_id: str, name: str, now: datetime
) -> None:
    """Clear a flag from a case (refused if it is not set); the next run reads it."""
    flag = check_flag(name)
    require_case(cases, who, loan_id)  # out of scope: not found, before what the role may do
    require(who, flag.permission)
    if not track.clear_flag(loan_id, name, audit(now, who, "flag.clear", f"loan:{loan_id}",
                                                 flag=name)):  # fmt: skip
        raise Refusal(
            "loan {loan_id} is not flagged {flag}",
            loan_id=repr(loan_id),
            flag=Term(f"flag:{name}", name),
        )

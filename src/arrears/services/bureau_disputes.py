"""Use cases of borrowers' disputes of furnished credit-bureau records: record one with the day
it must be answered by, answer it, list them (docs/BUREAU.md, "Disputes")."""

from datetime import UTC, date, datetime

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.bureau import month_of
from arrears.domain.bureau_disputes import (
    Dispute,
    DisputeRule,
    refuse_answer,
    refuse_receipt,
)
from arrears.domain.errors import Refusal
from arrears.domain.invisible import is_blank
from arrears.domain.staff import CONSOLE
from arrears.services.bureau_ports import DisputeStore
from arrears.services.content_check import NOTE_MAX


def open_dispute(
    store: DisputeStore,
    rule: DisputeRule | None,
    jurisdiction: str,
    loan_id: str,
    month: str,
    received_on: date,
    reason: str,
    today: date,
    now: datetime,
) -> Dispute:
    """Record a dispute of the loan's furnished record of the month, received on
    `received_on`, with the day its pack's rule says it is answered by."""
    first, _ = month_of(month)
    if rule is None:
        raise Refusal("the {pack} pack sets no deadline for disputes of bureau records",
                      pack=jurisdiction)  # fmt: skip
    refuse_receipt(received_on, today)
    text = _text(reason, "reason")
    if not store.furnished_record(loan_id, first):
        raise Refusal("no record of {loan_id} for {month} was furnished: there is none to "
                      "dispute", loan_id=repr(loan_id), month=month)  # fmt: skip
    due_on = rule.answer_by(received_on)
    row = {
        "loan_id": loan_id, "month": first, "received_on": received_on, "due_on": due_on,
        "rule": rule.rule_id, "reason": text, "opened_at": now.astimezone(UTC),
    }  # fmt: skip
    entry = AuditEntry(now.astimezone(UTC), CONSOLE, "bureau.dispute", f"loan:{loan_id}",
                       {"month": month, "received_on": received_on.isoformat(),
                        "due_on": due_on.isoformat()})  # fmt: skip
    dispute_id = store.add_dispute(row, entry)
    found = store.dispute(dispute_id)
    assert found is not None, "it was just stored"
    return found


def answer_dispute(
    store: DisputeStore,
    dispute_id: int,
    outcome: str,
    answer: str,
    answered_on: date,
    today: date,
    now: datetime,
) -> Dispute:
    """Answer a dispute: what the check found (the record `corrected` or `upheld`) and what
    the borrower was told; refused when it was answered already."""
    dispute = store.dispute(dispute_id)
    if dispute is None:
        raise Refusal("no dispute {dispute}", dispute=str(dispute_id))
    refuse_answer(dispute, outcome, answered_on, today)
    text = _text(answer, "answer")
    entry = AuditEntry(now.astimezone(UTC), CONSOLE, "bureau.answer",
                       f"loan:{dispute.loan_id}",
                       {"dispute": dispute_id, "outcome": outcome,
                        "answered_on": answered_on.isoformat(),
                        "late": answered_on > dispute.due_on})  # fmt: skip
    done = store.answer_dispute(dispute_id, {
        "answered_on": answered_on, "outcome": outcome, "answer": text,
        "answered_at": now.astimezone(UTC),
    }, entry)  # fmt: skip
    if not done:
        raise Refusal("dispute {dispute} was answered meanwhile", dispute=str(dispute_id))
    found = store.dispute(dispute_id)
    assert found is not None, "it was just answered"
    return found


def _text(text: str, what: str) -> str:
    """A dispute's reason or answer as kept: its ends' spaces trimmed, not blank, not over
    NOTE_MAX characters."""
    cleaned = text.strip()
    if is_blank(cleaned):
        raise Refusal("a dispute's {what} says something: it is not blank", what=what)
    if len(cleaned) > NOTE_MAX:
        raise Refusal("a dispute's {what} is at most {most} characters, this one {length}",
                      what=what, most=str(NOTE_MAX), length=str(len(cleaned)))  # fmt: skip
    return cleaned

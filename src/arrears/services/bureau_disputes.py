"""Use cases of borrowers' disputes of furnished credit-bureau records: record one with the day
it must be answered by under the pack its record was furnished under, answer it, say where
each stands (docs/BUREAU.md, "Disputes")."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.bureau import month_of
from arrears.domain.bureau_disputes import Dispute, refuse_answer, refuse_receipt
from arrears.domain.errors import Refusal, Term
from arrears.domain.invisible import is_blank
from arrears.domain.rule_pack import RulePack
from arrears.domain.staff import CONSOLE
from arrears.services.bureau_ports import DisputeStore
from arrears.services.content_check import NOTE_MAX


def open_dispute(
    store: DisputeStore,
    packs: Mapping[str, RulePack],
    loan_id: str,
    month: str,
    received_on: date | None,
    reason: str,
    now: datetime,
) -> Dispute:
    """Record a dispute of the loan's furnished record of the month, received on
    `received_on` (None: today, in the zone of the pack the record was furnished under), with
    the day that pack's rule says it is answered by."""
    first, last = month_of(month)
    jurisdiction = store.furnished_record(loan_id, first)
    if jurisdiction is None:
        raise Refusal("no record of {loan_id} for {month} was furnished: there is none to "
                      "dispute", loan_id=repr(loan_id), month=month)  # fmt: skip
    pack = packs[jurisdiction]
    rule = pack.bureau_disputes
    if rule is None:
        raise Refusal("the {pack} pack sets no deadline for disputes of bureau records",
                      pack=jurisdiction)  # fmt: skip
    today = local_day(pack, now)
    received = received_on or today
    refuse_receipt(received, last, today)
    text = _text(reason, "reason")
    due_on = rule.answer_by(received)
    row = {
        "loan_id": loan_id, "month": first, "received_on": received, "due_on": due_on,
        "jurisdiction": jurisdiction, "rule": rule.rule_id, "reason": text,
        "opened_at": now.astimezone(UTC),
    }  # fmt: skip

    def entry(dispute_id: int) -> AuditEntry:
        return AuditEntry(now.astimezone(UTC), CONSOLE, "bureau.dispute", f"loan:{loan_id}",
                          {"dispute": dispute_id, "month": month, "rule": rule.rule_id,
                           "received_on": received.isoformat(),
                           "due_on": due_on.isoformat()})  # fmt: skip

    found = store.dispute(store.add_dispute(row, entry))
    assert found is not None, "it was just stored"
    return found


def answer_dispute(
    store: DisputeStore,
    packs: Mapping[str, RulePack],
    dispute_id: int,
    outcome: str,
    answer: str,
    answered_on: date | None,
    now: datetime,
) -> Dispute:
    """Answer a dispute on `answered_on` (None: today in its pack's zone): what the check
    found (the record `corrected` or `upheld`) and what the borrower was told; refused when
    it was answered already."""
    dispute = store.dispute(dispute_id)
    if dispute is None:
        raise Refusal("no dispute {dispute}", dispute=str(dispute_id))
    today = local_day(packs[dispute.jurisdiction], now)
    on = answered_on or today
    refuse_answer(dispute, outcome, on, today)
    text = _text(answer, "answer")
    entry = AuditEntry(now.astimezone(UTC), CONSOLE, "bureau.answer",
                       f"loan:{dispute.loan_id}",
                       {"dispute": dispute_id, "outcome": outcome, "answered_on": on.isoformat(),
                        "late": on > dispute.due_on})  # fmt: skip
    done = store.answer_dispute(dispute_id, {
        "answered_on": on, "outcome": outcome, "answer": text,
        "answered_at": now.astimezone(UTC),
    }, entry)  # fmt: skip
    if not done:
        raise Refusal("dispute {dispute} was answered meanwhile", dispute=str(dispute_id))
    found = store.dispute(dispute_id)
    assert found is not None, "it was just answered"
    return found


def local_day(pack: RulePack, now: datetime) -> date:
    """The day `now` falls on in the pack's zone (the day a dispute's days are counted in)."""
    return now.astimezone(ZoneInfo(pack.default_zone)).date()


def _text(text: str, what: str) -> str:
    """A dispute's reason or answer as kept: its ends' spaces trimmed, not blank, not over
    NOTE_MAX characters."""
    cleaned = text.strip()
    named = Term(f"dispute:{what}", what)
    if is_blank(cleaned):
        raise Refusal("a dispute's {what} says something: it is not blank", what=named)
    if len(cleaned) > NOTE_MAX:
        raise Refusal("a dispute's {what} is at most {most} characters, this one {length}",
                      what=named, most=str(NOTE_MAX), length=str(len(cleaned)))  # fmt: skip
    return cleaned

"""What a borrower asks for in the portal (docs/PORTAL.md): a repayment plan or an extension
of their own loan, granted at once within the lender's self-service limits
(approvals.BORROWER_LIMITS), else waiting for a supervisor on the desk's approvals page, as a
collector's proposal beyond their limits does; and a dispute of what they are asked to pay,
which pauses collection until the desk answers it."""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from arrears.domain.approvals import BORROWER_LIMITS, SELF_SERVED, Proposal, ProposalKind
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import Hold
from arrears.domain.errors import Refusal, Term
from arrears.services.casework import ProposalOutcome, Proposer, overdue_in, propose_as
from arrears.services.casework_ports import CaseStore
from arrears.services.content_check import NOTE_MAX
from arrears.services.portal import BORROWER_ACTOR, POLICY

BORROWER = Proposer(BORROWER_ACTOR, POLICY, BORROWER_LIMITS)


class PortalLoanNotFound(Refusal):
    """No loan of that id among the borrower's (another's is not said to exist)."""


def request_change(
    store: CaseStore, theirs: Sequence[str], loan_id: str, kind: str, size: int,
    now: datetime, today: date,
) -> ProposalOutcome:  # fmt: skip
    """The borrower's request on one of their loans (`theirs`): a plan of `size` months or
    an extension of `size` days, refused while another request on the loan waits for an
    answer; audited as the borrower's `proposal.add`."""
    if loan_id not in theirs:
        raise PortalLoanNotFound("loan {loan_id} not found", loan_id=repr(loan_id))
    try:
        asked = ProposalKind(kind)
    except ValueError:
        raise Refusal("unknown proposal kind {kind}", kind=repr(kind)) from None
    if asked not in SELF_SERVED:
        raise Refusal(
            "a {kind} is agreed with the lender, not asked for here",
            kind=Term(f"proposal:{asked.value}", asked.value),
        )
    record = store.case(loan_id)
    if record is None:
        raise PortalLoanNotFound("loan {loan_id} not found", loan_id=repr(loan_id))
    if any(p["status"] == "pending" for p in record.proposals):
        raise Refusal(
            "a request on loan {loan_id} is waiting for the lender's answer: ask again once "
            "it is answered",
            loan_id=loan_id,
        )
    plan = asked is ProposalKind.PLAN
    offer = Proposal(asked, overdue_in(record), months=size if plan else 0,
                     days=0 if plan else size)  # fmt: skip
    return propose_as(store, BORROWER, loan_id, offer, offer.terms, now, today)


def requests_of(proposals: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The borrower's own requests among a case's proposals, newest first."""
    mine = [p for p in proposals if p["proposed_by"] == BORROWER_ACTOR]
    return sorted(mine, key=lambda p: p["proposal_id"], reverse=True)


class DisputeStore(Protocol):
    """Where a borrower's holds are kept (adapters' SqlContactStore)."""

    def holds_of(self, borrower_id: str) -> tuple[Hold, ...]:
        """The borrower's holds, by start day."""
        ...

    def record_hold(
        self, borrower_id: str, hold: Hold, at: datetime, audit: AuditEntry | None = None, *,
        new: bool = False, findings: list[dict[str, Any]] | None = None,
    ) -> None:  # fmt: skip
        """Store a hold with its audit entry (`new`: HoldExists if placed already)."""
        ...


def open_dispute(holds: Sequence[Hold], today: date) -> Hold | None:
    """The borrower's dispute hold that covers `today` or starts later, if any."""
    still = [h for h in holds if h.kind == "dispute" and (h.ends_on is None or h.ends_on >= today)]
    return still[0] if still else None


def dispute_debt(
    store: DisputeStore, borrower_id: str, reason: str, today: date, now: datetime
) -> Hold:
    """The borrower disputes what they are asked to pay: a dispute hold from `today` until the
    desk lifts it, the reason in their own words as its note (not linted: the content rules
    read what collectors write); every pack's hold rule then stops collection contacts (cn:
    GB/T 45251-2025; us: 12 CFR 1006.38(d)(2)); refused while a dispute of theirs is open."""
    said = " ".join(reason.split())
    if not said:
        raise Refusal("say what you dispute: the reason is empty")
    if len(said) > NOTE_MAX:
        raise Refusal("the reason is at most {most} characters", most=str(NOTE_MAX))
    if open_dispute(store.holds_of(borrower_id), today) is not None:
        raise Refusal("your dispute is open already: the lender answers it before collection "
                      "goes on")  # fmt: skip
    hold = Hold("dispute", today, None, said)
    detail = {"kind": "dispute", "starts_on": today.isoformat(), "ends_on": None, "note": said}
    entry = AuditEntry(now.astimezone(UTC), BORROWER_ACTOR, "hold.place",
                       f"borrower:{borrower_id}", dict(detail))  # fmt: skip
    store.record_hold(borrower_id, hold, now, entry, new=True)
    return hold

"""What a borrower asks for in the portal (docs/PORTAL.md): a repayment plan or an extension
of their own loan, granted at once within the lender's self-service limits
(approvals.BORROWER_LIMITS), else waiting for a supervisor on the desk's approvals page, as a
collector's proposal beyond their limits does."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from arrears.domain.approvals import BORROWER_LIMITS, SELF_SERVED, Proposal, ProposalKind
from arrears.domain.errors import Refusal, Term
from arrears.services.casework import ProposalOutcome, Proposer, overdue_in, propose_as
from arrears.services.casework_ports import CaseStore
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

"""What a borrower asks for in the portal (docs/PORTAL.md): a repayment plan or an extension
of their own loan, granted at once within the lender's self-service limits
(approvals.BORROWER_LIMITS), else waiting for a supervisor on the desk's approvals page, as a
collector's proposal beyond their limits does; and a dispute of what they are asked to pay,
which pauses collection until the desk answers it."""

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from arrears.domain.approvals import BORROWER_LIMITS, SELF_SERVED, Proposal, ProposalKind
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import Hold
from arrears.domain.errors import Refusal, Term
from arrears.domain.invisible import visible
from arrears.domain.statement import LoanState
from arrears.services.casework import ProposalOutcome, Proposer, propose_as
from arrears.services.casework_ports import CaseStore
from arrears.services.content_check import NOTE_MAX
from arrears.services.portal import BORROWER_ACTOR, POLICY
from arrears.services.ports import HoldExists


class PortalLoanNotFound(Refusal):
    """No loan of that id among the borrower's (another's is not said to exist)."""


def request_change(
    store: CaseStore, theirs: Sequence[str], state: LoanState, kind: str, size: int,
    now: datetime, today: date, day_began: datetime,
) -> ProposalOutcome:  # fmt: skip
    """The borrower's request on one of their loans (`theirs`; `state`: the loan's on the
    statement's day, which the portal shows them): a plan of `size` months or an extension of
    `size` days. Granted at once within BORROWER_LIMITS, except a plan while an earlier plan
    on the loan still runs (then a person decides: a borrower may not roll a plan over on
    their own); refused while any proposal on the loan waits, or when they asked on it
    since `day_began` (the desk's day began: one request a day, so a plan sent twice at once
    is not granted twice; both checked as it is stored); audited as the borrower's
    `proposal.add`."""
    loan_id = state.loan_id
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
    plan = asked is ProposalKind.PLAN
    offer = Proposal(asked, state.overdue.total, months=size if plan else 0,
                     days=0 if plan else size)  # fmt: skip
    limits = None if plan and plan_runs(state, record.proposals) else BORROWER_LIMITS
    proposer = Proposer(BORROWER_ACTOR, POLICY, limits, alone_since=day_began)
    return propose_as(store, proposer, loan_id, offer, offer.terms, now, today)


def plan_runs(state: LoanState, proposals: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a plan on the loan still runs: one of the statement with a part not paid, or
    one approved to take effect after the statement's day (not in it yet)."""
    if any(part.status != "paid" for p in state.plans for part in p.parts):
        return True
    return any(
        p["kind"] == "plan" and p["status"] == "approved" and p["effective_on"] is not None
        and date.fromisoformat(str(p["effective_on"])) > state.as_of
        for p in proposals
    )  # fmt: skip


def requests_of(proposals: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The borrower's own requests among a case's proposals, newest first."""
    mine = [p for p in proposals if p["proposed_by"] == BORROWER_ACTOR]
    return sorted(mine, key=lambda p: p["proposal_id"], reverse=True)


class DisputeStore(Protocol):
    """Where a borrower's holds are kept (adapters' SqlContactStore)."""

    def holds_placed_by(self, borrower_id: str, placed_by: str) -> tuple[Hold, ...]:
        """The borrower's holds placed by `placed_by`, by start day."""
        ...

    def record_hold(
        self, borrower_id: str, hold: Hold, at: datetime, audit: AuditEntry | None = None, *,
        new: bool = False, findings: list[dict[str, Any]] | None = None,
        placed_by: str | None = None,
    ) -> None:  # fmt: skip
        """Store a hold with its audit entry (`new`: HoldExists if placed already)."""
        ...


def own_dispute(store: DisputeStore, borrower_id: str, today: date) -> Hold | None:
    """The borrower's latest dispute placed in the portal that has not ended before `today`
    (one the desk placed is not theirs to read: its note is the desk's)."""
    mine = [h for h in store.holds_placed_by(borrower_id, BORROWER_ACTOR)
            if h.kind == "dispute" and (h.ends_on is None or h.ends_on >= today)]  # fmt: skip
    return mine[-1] if mine else None


def dispute_debt(
    store: DisputeStore, borrower_id: str, reason: str, days: Sequence[date], now: datetime
) -> Hold:
    """The borrower disputes what they are asked to pay: a dispute hold until the desk lifts
    it, from the earliest of `days` (their local day in each zone a pack of their loans counts
    days in, and the desk's), so it covers their today wherever a hold rule asks; their
    reason, in their own words, its note (not linted: the content rules read what collectors
    write). Every pack's hold rule then stops collection contacts (cn: GB/T 45251-2025; us: 12
    CFR 1006.38(d)(2)). Refused while a dispute of theirs is open; one the desk lifted today
    is opened again."""
    said = _reason(reason)
    start = min(days)
    found = own_dispute(store, borrower_id, start)
    if found is not None and found.ends_on is None:
        raise Refusal("your dispute is open already: the lender answers it before collection "
                      "goes on")  # fmt: skip
    again = found is not None and found.starts_on == start  # lifted today: open it again
    hold = Hold("dispute", start, None, said)
    detail = {"kind": "dispute", "starts_on": hold.starts_on.isoformat(), "ends_on": None,
              "note": said}  # fmt: skip
    entry = AuditEntry(now.astimezone(UTC), BORROWER_ACTOR, "hold.place",
                       f"borrower:{borrower_id}", dict(detail))  # fmt: skip
    try:
        store.record_hold(borrower_id, hold, now, entry, new=not again, placed_by=BORROWER_ACTOR)
    except HoldExists:  # the desk's dispute from that day, or this one sent twice at once
        raise Refusal("a dispute from {day} is recorded already: the lender answers it before "
                      "collection goes on", day=hold.starts_on.isoformat()) from None  # fmt: skip
    return hold


def _reason(text: str) -> str:
    """A borrower's reason as kept: what shows of it (no control or invisible characters,
    which could hide or reorder what the desk reads), its spaces collapsed; refused when
    nothing shows or it is too long."""
    shown = "".join(c for c in visible(text) if unicodedata.category(c) != "Cc" or c in "\t\n")
    said = " ".join(shown.split())
    if not said:
        raise Refusal("say what you dispute: the reason is empty")
    if len(said) > NOTE_MAX:
        raise Refusal("the reason is at most {most} characters", most=str(NOTE_MAX))
    return said

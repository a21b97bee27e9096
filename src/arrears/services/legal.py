"""Use cases of the legal track: a lawyer's letter opens it (once the ladder's guard finds
the notice sent and the agency tried), then filing (once the letter went out: the guard of
`legal_review`), preservation, judgment, enforcement, closing."""

from collections.abc import Callable
from datetime import datetime

from arrears.domain.access import Permission, Principal, require
from arrears.domain.escalation import check_escalation
from arrears.domain.ladder import Ladder
from arrears.domain.legal_track import LegalStep, check_next, deadline_after
from arrears.services.casework import audit, require_case
from arrears.services.casework_ports import CaseStore
from arrears.services.field_visit import GuardRefused
from arrears.services.track_ports import TrackStore

# The ladder action whose guard a legal step must pass first.
GUARDED_BY = {"lawyers_letter": "lawyers_letter", "filing": "legal_review"}


def add_legal_step(
    cases: CaseStore,
    track: TrackStore,
    ladder_of: Callable[[str], Ladder],
    who: Principal,
    loan_id: str,
    step: LegalStep,
    now: datetime,
) -> None:
    """Record the next step of a case's legal track, with its cost and any legal deadline."""
    require(who, Permission.LEGAL)
    require_case(cases, who, loan_id)
    current = track.legal_case(loan_id)
    steps = current["steps"] if current else []
    check_next([s["step"] for s in steps], step, steps[-1]["on"] if steps else None)
    action = GUARDED_BY.get(step.step)
    if action is not None:
        decision = check_escalation(ladder_of(loan_id), action, track.history(loan_id), step.on)
        if not decision.allowed:
            raise GuardRefused(action, decision.reasons)
    track.add_step(
        loan_id,
        step,
        deadline_after(step),
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
        ),
    )

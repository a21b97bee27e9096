"""Use cases of field visits: request (refused until the ladder's gentler steps are on
record, while the loan owes nothing past due, and while the case has a visit open), approve
(a supervisor, not the requester; the guard and the debt asked again that day), and report
(two collectors, recorded, in the visit's days; the guard and the debt asked again for the
visit's day, the contact rules at its instant)."""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from arrears.domain.access import Forbidden, Permission, Principal, require, scope_of
from arrears.domain.content_lint import LintedText
from arrears.domain.errors import Clauses, Refusal, Words
from arrears.domain.escalation import action_term, check_escalation
from arrears.domain.field_visits import (
    VISIT_DAYS,
    VisitReport,
    VisitRequest,
    check_planned_on,
    check_visit_day,
    lapsed,
    last_visit_day,
)
from arrears.services.casework import CaseNotFound, Decision, audit, open_case, written_on_loan
from arrears.services.casework_ports import AuditLog, CaseStore
from arrears.services.contact_check import ContactTerms
from arrears.services.contact_log import TRIES
from arrears.services.content_check import audit_findings, findings_document
from arrears.services.desk_contact import desk_attempt
from arrears.services.ports import AttemptsChanged, ContactStore
from arrears.services.step_checks import StepTerms, check_not_held, check_past_due
from arrears.services.track_ports import TrackStore

ACTION = "field_visit_request"


class GuardRefused(Refusal):
    """An escalation guard refuses the step: the gentler steps are not all on record
    (`reasons`: the guard's, GuardDecision.words, in English)."""

    def __init__(self, action: str, reasons: tuple[Words, ...]) -> None:
        missing = Clauses(tuple(r for r in reasons if str(r).startswith("missing")))
        super().__init__("{action} refused: {missing}", action=action_term(action), missing=missing)
        self.action = action
        self.reasons = tuple(str(r) for r in reasons)


@dataclass(frozen=True)
class VisitRequested:
    """A visit asked for: its id, and its reason as kept with the content lint's findings."""

    visit_id: int
    reason: LintedText


def request_visit(
    cases: CaseStore,
    track: TrackStore,
    terms: StepTerms,
    who: Principal,
    request: VisitRequest,
    today: date,
    now: datetime,
) -> VisitRequested:
    """Store a visit request once the ladder's guard finds the gentler steps done (the
    supervisor's approval is the one step left) and the loan owes something past due. Its
    reason is kept as written with what the content rules of the loan's pack find in it
    (never refused for that, the audit entry naming their rules)."""
    require(who, Permission.FIELD_VISIT)
    record = open_case(cases, who, request.loan_id)
    check_planned_on(request.planned_on, today)
    _check_visitors(cases, _team_of(cases, request.loan_id, who.team_id), request.collectors)
    borrower = str(record.borrower["borrower_id"])

    def allowed() -> tuple[str, ...]:
        # Asked only once the case is known to be in scope.
        return _visit_allowed(terms, track, (request.loan_id, borrower), today, approved=False)

    # What was met when it was asked for (the approval is still to come, so the decision's
    # reasons are the missing ones): kept with the request for the approver to read.
    met = list(allowed())
    reason = written_on_loan(terms.contact_terms, record.loan["product"], request.reason)
    assert reason is not None, "a visit request says why (VisitRequest)"
    row = {
        "loan_id": request.loan_id,
        "requested_by": who.user_id,
        "requested_at": now.astimezone(UTC),
        "collectors": list(request.collectors),
        "planned_on": request.planned_on,
        "reason": reason.text,
        "reason_findings": findings_document(reason),
        "status": "requested",
        "guard": met,
    }
    entry = audit(
        now,
        who,
        "visit.request",
        f"loan:{request.loan_id}",
        collectors=list(request.collectors),
        planned_on=request.planned_on.isoformat(),
        reason=reason.text,
        **audit_findings(reason),
    )
    # The store refuses it while the case has a visit open, and asks `allowed` again, once it
    # holds the write lock (two requests at once, a placement recalled meanwhile).
    return VisitRequested(track.add_visit(row, entry, today - VISIT_DAYS, allowed), reason)


def _visit_allowed(
    terms: StepTerms, track: TrackStore, case: tuple[str, str], day: date, *, approved: bool
) -> tuple[str, ...]:
    """What the ladder's guard finds met for a visit on `day` (with the supervisor's
    approval, or before it) to the case's (loan, borrower); GuardRefused naming what is
    missing, a refusal when the loan owes nothing past due that day, and StepBlocked under a
    hold that day (a visit presses for payment: the night plans none under one)."""
    loan_id, borrower_id = case
    check_past_due(terms, loan_id, day)
    check_not_held(terms, borrower_id, ACTION, day)
    decision = check_escalation(
        terms.ladder_of(loan_id), ACTION, track.history(loan_id), day, approved=approved
    )
    missing = [w for w in decision.words if str(w).startswith("missing")]
    if not approved:
        missing = [w for w in missing if "approval" not in str(w)]
    if missing:
        raise GuardRefused(ACTION, tuple(missing))
    return decision.met


def decide_visit(
    cases: CaseStore,
    track: TrackStore,
    terms: StepTerms,
    who: Principal,
    visit_id: int,
    approve: bool,
    today: date,
    now: datetime,
    note: str = "",
) -> Decision:
    """Approve or reject a requested visit, or withdraw an approved one not yet made (a
    supervisor other than the requester and those who go), why in
    `note`, kept with the decision (and in its audit entry) as written with what the content
    rules of the loan's pack find in it (never refused for that). An approval asks the
    ladder's guard again on the desk's `today`, with the approval, and that the loan still
    owes something past due: the request's check may be months old, or the loan paid off
    since."""
    require(who, Permission.APPROVE)
    visit = _visit_in_scope(cases, track, who, visit_id)
    if visit["requested_by"] == who.user_id or who.user_id in visit["collectors"]:
        raise Forbidden("a field visit is approved by someone other than who asked for it or goes")
    check: Callable[[], object] | None = None
    if approve and visit["status"] == "requested":
        if lapsed(visit["planned_on"], today):
            raise Refusal(
                "visit {visit_id} was planned for {planned_on} and could be made until {last}: "
                "it lapsed; ask for a visit again",
                visit_id=str(visit_id),
                planned_on=visit["planned_on"].isoformat(),
                last=last_visit_day(visit["planned_on"]).isoformat(),
            )
        case = (visit["loan_id"], _borrower_of(cases, visit["loan_id"]))
        team = _team_of(cases, visit["loan_id"], cases.team_of(visit["requested_by"]))

        def check() -> tuple[str, ...]:
            # Both visitors still active collectors of the case's team (two go: CBA 2026
            # Art. 22): one disabled since the request was approved all the same (helper-121).
            _check_visitors(cases, team, visit["collectors"])
            return _visit_allowed(terms, track, case, today, approved=True)

        check()
    status = "approved" if approve else "rejected"
    # An approved visit not yet made may be withdrawn: its report is refused once one of its
    # two collectors is no longer an active collector of the case's team, and the case may
    # then be asked a visit again at once, not when it lapses.
    deciding = "approved" if not approve and visit["status"] == "approved" else "requested"
    kept = written_on_loan(terms.contact_terms, cases.product_of(visit["loan_id"]), note)
    entry = audit(
        now,
        who,
        f"visit.{'approve' if approve else 'reject'}",
        f"loan:{visit['loan_id']}",
        visit=visit_id,
        note=kept.text if kept else None,
        **audit_findings(kept),
    )
    decided = {
        "status": status,
        "decided_by": who.user_id,
        "decided_at": now.astimezone(UTC),
        "decision_note": kept.text if kept else None,
        "decision_note_findings": findings_document(kept),
    }
    if not track.set_visit(visit_id, deciding, decided, entry, check):
        raise Refusal(
            "visit {visit_id} is no longer waiting for a decision", visit_id=str(visit_id)
        )
    return Decision(status, kept)


def report_visit(
    cases: CaseStore,
    contacts: ContactStore,
    log: AuditLog,
    terms: ContactTerms,
    track: TrackStore,
    steps: StepTerms,
    who: Principal,
    visit_id: int,
    report: VisitReport,
    visit_day: date,
    now: datetime,
) -> LintedText | None:
    """Record an approved visit as made: by one of its collectors (either, whoever's case it
    is), with its recording, on its planned day or in the days after it (VISIT_DAYS; the
    desk's calendar `visit_day`); the ladder's guard is asked again for that day, with the
    approval, and the loan must still owe something past due then; the contact rules are
    asked at the visit's instant (a visit at night is refused), and the visit's contact is
    recorded with the report, once. The report's note is kept with what the content rules of
    the loan's pack find in it (never refused for that), the audit entry naming their rules:
    the note as kept."""
    require(who, Permission.FIELD_VISIT)
    require(who, Permission.CONTACT_LOG)
    visit = _visit_in_scope(cases, track, who, visit_id, reporting=True)
    if visit["status"] != "approved":
        raise Refusal(
            "visit {visit_id} is {status}: only an approved visit is made",
            visit_id=str(visit_id),
            status=str(visit["status"]),
        )
    if who.user_id not in visit["collectors"]:
        raise Forbidden("a visit is reported by one of the collectors who made it")
    if not visit["decided_at"] <= report.visited_at <= now + timedelta(minutes=5):
        raise Refusal("a visit is made after its approval and reported once it happened")
    check_visit_day(visit["planned_on"], visit_day)
    record = cases.case(visit["loan_id"])
    assert record is not None, "a visit's case exists"
    borrower = record.borrower["borrower_id"]
    team = _team_of(cases, visit["loan_id"], cases.team_of(visit["requested_by"]))

    def allowed() -> tuple[str, ...]:
        _check_visitors(cases, team, visit["collectors"])  # as the approval asked
        return _visit_allowed(steps, track, (visit["loan_id"], borrower), visit_day,
                              approved=True)  # fmt: skip

    allowed()
    document = {
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(report).items()
    }
    note = written_on_loan(terms, record.loan["product"], report.note)
    document["note"] = note.text if note else ""  # as linted: the findings' places are in it
    entry = audit(
        now,
        who,
        "visit.report",
        f"loan:{visit['loan_id']}",
        visit=visit_id,
        outcome=report.outcome,
        recording=report.recording,
        **audit_findings(note),
    )
    values = {
        "status": "done",
        "visited_at": report.visited_at.astimezone(UTC),
        "outcome": report.outcome,
        "recording": report.recording,
        "report": document,
        "note_findings": findings_document(note),
    }
    for _ in range(TRIES):  # as a desk's call (contact_log.TRIES)
        # Decided again while the borrower's attempts are logged meanwhile: the visit's
        # contact counts every attempt stored before it, as a desk's call does.
        attempt, decision, contact_entry, file, _ = desk_attempt(
            contacts, log, terms, who, (visit["loan_id"], borrower),
            ("visit", report.visited_at, None), report.outcome, now,
        )  # fmt: skip
        contact = (borrower, attempt, now, decision, contact_entry, file)
        try:
            if not track.report_visit(visit_id, values, entry, contact, allowed):
                raise Refusal("visit {visit_id} was reported meanwhile", visit_id=str(visit_id))
            return note
        except AttemptsChanged:
            continue
    raise Refusal(
        "contacts of borrower {borrower} kept being logged while visit {visit_id}'s was "
        "decided: nothing was recorded, report it again",
        borrower=repr(borrower),
        visit_id=str(visit_id),
    )


def _borrower_of(cases: CaseStore, loan_id: str) -> str:
    """The borrower of a visit's case (it exists: a visit is asked for on a case)."""
    record = cases.case(loan_id)
    assert record is not None, "a visit's case exists"
    return str(record.borrower["borrower_id"])


def _team_of(cases: CaseStore, loan_id: str, otherwise: str | None) -> str | None:
    """The team a visit's collectors are of: the case's, else (a case in the pool, given to
    no team yet) `otherwise`: its requester's (helper-126: an approval had asked the
    approver's, refusing every visit on a pool case)."""
    record = cases.case(loan_id)
    return ((record.assignment or {}).get("team_id") if record else None) or otherwise


def _check_visitors(cases: CaseStore, team: str | None, collectors: Sequence[str]) -> None:
    """Refuse unless every one of a visit's collectors is an active collector of `team`
    (CASEWORK.md: two different active collectors of the case's team)."""
    active = cases.workloads([team]) if team else {}
    strangers = [c for c in collectors if c not in active]
    if strangers:
        raise Refusal(
            "{strangers}: not an active collector of the case's team {team}; the visitors are "
            "its collectors",
            strangers=", ".join(strangers),
            team=team or "(none)",
        )


def _of_the_cases_team(cases: CaseStore, who: Principal, loan_id: str) -> bool:
    """Whether the principal is an active collector of the case's team (the team a visit's
    collectors were asked of: the case's, else the requester's own, as request_visit has it)."""
    team = _team_of(cases, loan_id, who.team_id)
    return team is not None and who.user_id in cases.workloads([team])


def _visit_in_scope(
    cases: CaseStore, track: TrackStore, who: Principal, visit_id: int, reporting: bool = False
) -> dict[str, Any]:
    """The visit, if its case is in the principal's scope (or, `reporting`, they are one of
    the collectors who make it and still an active collector of the case's team: the second
    is often not the case's collector, but one moved to another team since the approval no
    longer works its cases, helper-112)."""
    visit = track.visit(visit_id)
    if visit is None:
        raise CaseNotFound("visit {visit_id} not found", visit_id=str(visit_id))
    going = (reporting and who.user_id in visit["collectors"]
             and _of_the_cases_team(cases, who, visit["loan_id"]))  # fmt: skip
    if not going and not cases.visible(scope_of(who), visit["loan_id"]):
        raise CaseNotFound("visit {visit_id} not found", visit_id=str(visit_id))
    return visit

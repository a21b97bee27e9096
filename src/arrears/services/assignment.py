"""Use cases of assignment: give cases to teams and collectors (by hand or balanced), and
place them with agencies or recall them."""

from datetime import date, datetime

from arrears.domain.access import Forbidden, Permission, Principal, Role, require, scope_of
from arrears.domain.errors import Refusal
from arrears.domain.escalation import check_escalation
from arrears.domain.outsourcing import check_agency
from arrears.domain.queue_priority import QueueScale
from arrears.services.casework import (
    CaseNotFound,
    audit,
    open_case,
    require_case,
    row_priority,
)
from arrears.services.casework_ports import CaseStore, NotACollectorOfTeam, QueueFilter
from arrears.services.field_visit import GuardRefused
from arrears.services.step_checks import StepTerms, check_not_held
from arrears.services.track_ports import TrackStore

ACTION = "agency_placement"


def _teams_of(who: Principal, teams: list[str]) -> list[str]:
    """The teams the principal may assign to: a supervisor their own, an admin any."""
    if who.role is Role.SUPERVISOR:
        if who.team_id is None or any(t != who.team_id for t in teams):
            raise Forbidden("a supervisor assigns cases within their own team only")
        return [who.team_id]
    if not teams:
        raise Refusal("name at least one team to assign to")
    return teams


def assign_case(
    store: CaseStore,
    who: Principal,
    loan_id: str,
    team_id: str,
    collector_id: str | None,
    today: date,
    now: datetime,
) -> None:
    """Give one case to a team and, optionally, one of its active collectors (reassignment
    replaces; a collector of None recalls the case to the team's pool)."""
    require(who, Permission.ASSIGN)
    require_case(store, who, loan_id)
    (team,) = _teams_of(who, [team_id])
    # The store refuses a collector who is not an active collector of the team, checked in
    # the transaction that assigns (a change to the collector cannot slip in between).
    store.assign(
        loan_id,
        team,
        collector_id,
        today,
        who.user_id,
        audit(now, who, "case.assign", f"loan:{loan_id}", team=team, collector=collector_id),
    )


def balance_queue(
    store: CaseStore,
    who: Principal,
    teams: list[str],
    today: date,
    now: datetime,
    scale: QueueScale | None = None,
) -> dict[str, int]:
    """Give the scope's cases not yet with a collector to the collectors of the teams: the
    highest-priority case first, each to whoever has the fewest cases then (so new and busy
    collectors even out). Returns how many each collector received."""
    require(who, Permission.ASSIGN)
    allowed = _teams_of(who, teams)
    loads = store.workloads(allowed)
    if not loads:
        raise Refusal("no active collector in {teams} to assign cases to", teams=", ".join(allowed))
    rows = store.queue(scope_of(who), QueueFilter(unassigned=True), None)
    rows = [r for r in rows if r.agency_id is None]  # an agency works a placed case
    weighed = scale or QueueScale()
    rows.sort(key=lambda r: (-row_priority(r, weighed).total, r.loan_id))
    given: dict[str, int] = {}
    counts = {user: count for user, (_team, count) in loads.items()}
    for row in rows:
        while counts:
            collector = min(counts, key=lambda user: (counts[user], user))
            team = loads[collector][0]
            entry = audit(now, who, "case.assign", f"loan:{row.loan_id}", team=team,
                          collector=collector, balanced=True)  # fmt: skip
            try:
                store.assign(row.loan_id, team, collector, today, who.user_id, entry)
                break
            except NotACollectorOfTeam:  # moved or disabled since the loads were read
                del counts[collector]
        else:
            break  # no collector left: the rest stay in the pool
        counts[collector] += 1
        given[collector] = given.get(collector, 0) + 1
    return given


def place_case(
    store: CaseStore,
    track: TrackStore,
    terms: StepTerms,
    who: Principal,
    loan_id: str,
    agency_id: str,
    today: date,
    now: datetime,
) -> None:
    """Place a case with an agency, at its past-due balance and the agency's commission;
    refused (AgencyNotCleared) when the loan's pack has an outsourcing rule the agency does
    not meet on `today`, the desk's day (cn: on the white list, evaluated in the last 12
    months), until the ladder's guard on a placement finds its gentler steps on record, and
    under a hold (StepBlocked: a placement presses for payment, the night plans none under
    one)."""
    require(who, Permission.PLACE)
    record = open_case(store, who, loan_id)
    # What it owes past due on the desk's day, as a visit judges it (step_checks): the last
    # run's figures had a loan paid off since placed at what it no longer owed (helper-121).
    balance = terms.state_on(loan_id, today).overdue.total
    agency = store.agency(agency_id)
    if agency is None:
        raise Refusal("agency {agency_id} is not known", agency_id=repr(agency_id))
    if balance <= 0:
        raise Refusal(
            "case {loan_id} owes nothing past due on {on}: there is nothing to place",
            loan_id=repr(loan_id),
            on=today.isoformat(),
        )
    # The lender stays responsible for what it places (CBA 2026): only with an agency on its
    # published white list, evaluated within the pack's interval. The store places only if
    # the agency is still as judged here (an evaluation recorded meanwhile refuses it).
    check_agency(terms.outsourcing_of(loan_id), agency, today)
    # The night plans a placement only once its guard is met (the China ladder's: the formal
    # notice sent and calls on two days, [58借钱] 委外): a placement made by hand is held to
    # the same gentler steps, as a visit or a legal step is, since it then counts for the
    # heavier steps' guards (a lawyer's letter asks for the agency tried).
    # The stage is the supervisor's call, as for a visit or a legal step: the night's plan
    # places only where the ladder schedules it.
    decision = check_escalation(terms.ladder_of(loan_id), ACTION, track.history(loan_id), today)
    if not decision.allowed:
        raise GuardRefused(ACTION, decision.words)
    check_not_held(terms, str(record.borrower["borrower_id"]), ACTION, today)
    evaluated = None if agency.evaluated_on is None else agency.evaluated_on.isoformat()
    store.place(
        loan_id,
        agency,
        today,
        balance,
        who.user_id,
        audit(
            now,
            who,
            "case.place",
            f"loan:{loan_id}",
            agency=agency_id,
            balance=balance,
            commission=agency.commission_rate,
            listed=agency.listed,
            evaluated_on=evaluated,
        ),
    )


def recall_case(store: CaseStore, who: Principal, loan_id: str, today: date, now: datetime) -> None:
    """Recall a placed case from its agency."""
    require(who, Permission.PLACE)
    require_case(store, who, loan_id)
    if not store.recall(loan_id, today, audit(now, who, "case.recall", f"loan:{loan_id}")):
        raise CaseNotFound("case {loan_id} is not placed with an agency", loan_id=repr(loan_id))

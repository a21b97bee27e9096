"""Use cases of setting up the people: teams and agencies, and the evaluations that keep an
agency on the white list (users: services/identity.py)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from arrears.domain.access import Principal
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.domain.outsourcing import Agency
from arrears.domain.staff import check_agency, check_commission, check_team
from arrears.services.casework_ports import IdentityStore
from arrears.services.identity import UserNotFound, administering


class AgencyNotFound(UserNotFound):
    """No agency has the id an administrator acted on."""


def create_team(
    store: IdentityStore, by: Principal | None, team_id: str, name: str, now: datetime
) -> None:
    """Create a collection team (`by` None: at the console, by whoever holds the database)."""
    actor = administering(by)
    check_team(team_id, name)
    entry = AuditEntry(now.astimezone(UTC), actor, "team.create", f"team:{team_id}",
                       {"name": name})  # fmt: skip
    store.add_team(team_id, name, entry)


def create_agency(
    store: IdentityStore,
    by: Principal | None,
    agency_id: str,
    name: str,
    commission: str,
    today: date,
    now: datetime,
    *,
    listed: bool = False,
    evaluated_on: date | None = None,
) -> None:
    """Create a collection agency with its commission on what it collects (an exact share),
    whether it is on the lender's white list and the day of its last evaluation (None: not
    evaluated yet; not after `today`, the desk's day)."""
    actor = administering(by)
    check_agency(agency_id, name)
    rate = check_commission(commission)
    if evaluated_on is not None:
        check_evaluation_day(evaluated_on, today)
    detail = {
        "name": name,
        "commission": str(rate),
        "listed": listed,
        "evaluated_on": None if evaluated_on is None else evaluated_on.isoformat(),
    }
    entry = AuditEntry(now.astimezone(UTC), actor, "agency.create", f"agency:{agency_id}",
                       detail)  # fmt: skip
    store.add_agency(Agency(agency_id, name, str(rate), listed, evaluated_on), entry)


def evaluate_agency(
    store: IdentityStore,
    by: Principal | None,
    agency_id: str,
    on: date,
    listed: bool,
    today: date,
    now: datetime,
) -> None:
    """Record an agency's evaluation made on `on` (not after `today`, the desk's day): it
    stays on, or comes onto, the white list (`listed`), or leaves it; it replaces the
    evaluation recorded before (the audit log keeps each)."""
    actor = administering(by)
    check_evaluation_day(on, today)
    entry = AuditEntry(now.astimezone(UTC), actor, "agency.evaluate", f"agency:{agency_id}",
                       {"on": on.isoformat(), "listed": listed})  # fmt: skip
    if not store.evaluate_agency(agency_id, listed, on, entry):
        raise AgencyNotFound("agency {agency_id} is not known", agency_id=repr(agency_id))


def set_agency_commission(
    store: IdentityStore, by: Principal | None, agency_id: str, commission: str, now: datetime
) -> str:
    """Change an agency's commission (a renegotiated contract) for the cases placed with it
    from now on; a placement already made keeps the rate it was made at, which its agency's
    commission on it is reckoned at (services/dashboard.py). The rate replaced."""
    actor = administering(by)
    rate = str(check_commission(commission))

    def audited(was: str) -> AuditEntry:
        """The change's audit entry, or a refusal when it changes nothing."""
        if Decimal(was) == Decimal(rate):
            raise Refusal(
                "agency {agency_id}'s commission is already {rate}: nothing to change",
                agency_id=repr(agency_id), rate=was,
            )  # fmt: skip
        return AuditEntry(now.astimezone(UTC), actor, "agency.commission", f"agency:{agency_id}",
                          {"commission": rate, "was": was})  # fmt: skip

    was = store.set_agency_commission(agency_id, rate, audited)
    if was is None:
        raise AgencyNotFound("agency {agency_id} is not known", agency_id=repr(agency_id))
    return was


def check_evaluation_day(on: date, today: date) -> None:
    """Refuse an evaluation dated after today: it would keep the agency cleared for longer
    than the evaluation made."""
    if on > today:
        raise Refusal(
            "an evaluation dated {on} is after today ({today}): record it on or after its day",
            on=on.isoformat(),
            today=today.isoformat(),
        )

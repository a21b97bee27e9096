"""Use cases of setting up the people: teams and agencies (users: services/identity.py)."""

from datetime import UTC, datetime

from arrears.domain.access import Principal
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.staff import check_agency, check_commission, check_team
from arrears.services.casework_ports import IdentityStore
from arrears.services.identity import administering


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
    now: datetime,
) -> None:
    """Create a collection agency with its commission on what it collects (an exact share)."""
    actor = administering(by)
    check_agency(agency_id, name)
    rate = check_commission(commission)
    entry = AuditEntry(now.astimezone(UTC), actor, "agency.create", f"agency:{agency_id}",
                       {"name": name, "commission": str(rate)})  # fmt: skip
    store.add_agency(agency_id, name, str(rate), entry)

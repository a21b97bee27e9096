"""Who may do what, and which cases each person sees: roles, permissions and case scopes.

Every route of the web application asks this module (never its own rule): a role's
permissions say what a person may do, a scope says which cases they see. PIPL Art. 51 asks a
personal-information handler to set internal access rights by role; Art. 6 keeps access to
what the purpose needs.
"""

from dataclasses import dataclass
from enum import StrEnum

from arrears.domain.errors import Refusal, Term


class Role(StrEnum):
    """The people who work cases (PRODUCT.md, "Users")."""

    ADMIN = "admin"
    STRATEGY_MANAGER = "strategy_manager"
    SUPERVISOR = "supervisor"
    COLLECTOR = "collector"
    COMPLIANCE = "compliance"
    LEGAL = "legal"
    AGENCY = "agency"


class Permission(StrEnum):
    """An action a role may take on the cases in its scope."""

    CASE_VIEW = "case.view"
    CONTACT_LOG = "contact.log"  # log attempts, promises to pay and notes
    PROPOSE = "proposal.create"  # repayment plans, extensions, settlements
    APPROVE = "proposal.approve"
    ASSIGN = "case.assign"
    PLACE = "case.place"  # agency placement and recall
    HOLD = "hold.manage"
    UNMASK_PHONE = "pii.unmask.phone"
    UNMASK_ADDRESS = "pii.unmask.address"
    UNMASK_NATIONAL_ID = "pii.unmask.national_id"
    FIELD_VISIT = "fieldvisit.request"  # request a visit, and report one made
    LEGAL = "legal.manage"  # open and advance the legal track
    REFER = "case.refer"  # refer a case to legal (the `legal` flag), or withdraw it
    AUDIT_VIEW = "audit.view"
    DASHBOARD = "dashboard.view"
    USERS = "users.manage"
    # Read borrowers' replies to texts and record the opt-outs they ask for (every reply:
    # replies come by number, before anyone knows whose case they concern).
    REPLIES = "replies.read"


P = Permission
_WORK = frozenset({P.CASE_VIEW, P.CONTACT_LOG, P.PROPOSE, P.HOLD})
_UNMASK_ALL = frozenset({P.UNMASK_PHONE, P.UNMASK_ADDRESS, P.UNMASK_NATIONAL_ID})

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    # Designs ladders and reads results: sees cases, never a person's identifiers.
    Role.STRATEGY_MANAGER: frozenset({P.CASE_VIEW, P.DASHBOARD}),
    Role.SUPERVISOR: _WORK
    | _UNMASK_ALL
    | {P.APPROVE, P.ASSIGN, P.PLACE, P.DASHBOARD, P.FIELD_VISIT, P.REFER},
    # A collector dials and writes letters: the phone and address, not the national id.
    Role.COLLECTOR: _WORK | {P.UNMASK_PHONE, P.UNMASK_ADDRESS, P.FIELD_VISIT},
    Role.COMPLIANCE: frozenset({P.CASE_VIEW, P.HOLD, P.AUDIT_VIEW, P.DASHBOARD, P.REPLIES})
    | _UNMASK_ALL,
    Role.LEGAL: frozenset({P.CASE_VIEW, P.CONTACT_LOG, P.HOLD, P.LEGAL, P.REFER}) | _UNMASK_ALL,
    Role.AGENCY: frozenset({P.CASE_VIEW, P.CONTACT_LOG, P.UNMASK_PHONE, P.UNMASK_ADDRESS}),
}


class ScopeKind(StrEnum):
    """Which cases a person sees."""

    ALL = "all"
    TEAM = "team"  # cases assigned to their team, and those not yet assigned to any team
    OWN = "own"  # cases assigned to them
    AGENCY = "agency"  # accounts placed with their agency now
    LEGAL = "legal"  # cases in a legal stage, on the legal track or referred to it
    NONE = "none"


@dataclass(frozen=True)
class Principal:
    """A signed-in person: who they are, their role, team and agency."""

    user_id: str
    role: Role
    team_id: str | None = None
    agency_id: str | None = None

    def __post_init__(self) -> None:
        if self.role is Role.AGENCY and self.agency_id is None:
            raise Refusal("agency user {user_id} names no agency", user_id=repr(self.user_id))

    def may(self, permission: Permission) -> bool:
        """Whether the role grants the permission."""
        return permission in PERMISSIONS[self.role]


@dataclass(frozen=True)
class Scope:
    """The cases a principal sees: a kind and the team, user or agency it is about."""

    kind: ScopeKind
    key: str | None = None


class Forbidden(Refusal):
    """The principal's role or scope does not allow what was asked."""


def scope_of(principal: Principal) -> Scope:
    """The one rule for which cases a person sees (the store turns it into a query)."""
    role = principal.role
    if role in (Role.ADMIN, Role.STRATEGY_MANAGER, Role.COMPLIANCE):
        return Scope(ScopeKind.ALL)
    if role is Role.SUPERVISOR:
        if principal.team_id is None:
            return Scope(ScopeKind.NONE)  # a supervisor of no team supervises nothing yet
        return Scope(ScopeKind.TEAM, principal.team_id)
    if role is Role.COLLECTOR:
        return Scope(ScopeKind.OWN, principal.user_id)
    if role is Role.AGENCY:
        return Scope(ScopeKind.AGENCY, principal.agency_id)
    return Scope(ScopeKind.LEGAL)


def require(principal: Principal, permission: Permission) -> None:
    """Refuse (Forbidden) unless the principal's role grants the permission."""
    if not principal.may(permission):
        raise Forbidden(
            "role {role} may not {permission}",
            role=Term(f"role:{principal.role.value}", principal.role.value),
            permission=Term(f"permission:{permission.value}", permission.value),
        )

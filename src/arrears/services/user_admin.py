"""Use cases of the administrator on an existing user: change who they are, reset a password."""

from dataclasses import replace
from datetime import UTC, datetime

from arrears.domain.access import Permission, Principal, Role, require
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.domain.staff import check_display_name, check_placement
from arrears.services.casework_ports import IdentityStore, PasswordHasher, UserRecord
from arrears.services.identity import (
    UserNotFound,
    administering,
    check_password,
    named_user,
)

_CHANGEABLE = ("display_name", "role", "team_id", "agency_id")


def update_user(
    store: IdentityStore,
    by: Principal,
    user_id: str,
    changes: UserRecord,
    now: datetime,
) -> UserRecord:
    """Give a user the display name, role, team and agency of `changes` (their id, password,
    language and status stay), audited with what changed; nothing changed, nothing written.
    An administrator cannot take the role away from themselves (someone must be left to undo
    it). A collector who leaves their team or role gives their cases back to the team's pool,
    for its supervisor to assign again (a case is never left with someone who no longer works
    that team's cases); the audit entry says how many."""
    require(by, Permission.USERS)
    user = named_user(store, user_id)
    check_display_name(changes.display_name)
    check_placement(changes.role, changes.team_id, changes.agency_id)
    if user.user_id == by.user_id and changes.role is not Role.ADMIN:
        raise Refusal("you cannot take the administrator's role away from yourself")
    changed = replace(
        user,
        display_name=changes.display_name,
        role=changes.role,
        team_id=changes.team_id,
        agency_id=changes.agency_id,
    )
    moved = {
        name: [_plain(getattr(user, name)), _plain(getattr(changed, name))]
        for name in _CHANGEABLE
        if getattr(user, name) != getattr(changed, name)
    }
    if moved:
        entry = AuditEntry(now.astimezone(UTC), by.user_id, "user.update",
                           f"user:{user.user_id}", moved)  # fmt: skip
        store.update_user(changed, entry)
    return changed


def reset_password(
    store: IdentityStore,
    hasher: PasswordHasher,
    by: Principal | None,
    user_id: str,
    password: str,
    now: datetime,
) -> str:
    """Set a user's password (one they forgot, or one someone else may know): their sessions
    end and their API tokens are revoked, as when an account is disabled. Audited without
    the password (`by` None: at the console, by whoever holds the database). Returns the
    user's id as stored."""
    actor = administering(by)
    check_password(password)
    user_id = named_user(store, user_id).user_id
    entry = AuditEntry(now.astimezone(UTC), actor, "user.password", f"user:{user_id}", {})
    if not store.set_password(user_id, hasher.hash(password), entry):
        raise UserNotFound("user {user_id} is not known", user_id=repr(user_id))
    return user_id


def _plain(value: object) -> object:
    """A field's value as the audit log keeps it (a role by its name)."""
    return value.value if isinstance(value, Role) else value

"""Use case: a signed-in user changes their own password."""

from datetime import UTC, datetime

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.services.casework_ports import IdentityStore, PasswordHasher, UserRecord
from arrears.services.identity import SignInRefused, authenticate, check_password


class WrongPassword(Refusal):
    """The password given as the one in use is not."""


def change_own_password(
    store: IdentityStore,
    hasher: PasswordHasher,
    user: UserRecord,
    current: str,
    new: str,
    client: str,
    now: datetime,
) -> None:
    """Set the user's password, given the one in use: checked as a sign-in checks it (a
    wrong one is a failed log-in, audited and throttled, so a session left open is no way
    to guess it). Then, as when an administrator resets it, every session of theirs ends
    (this one too) and their API tokens are revoked: whoever knew the old password may hold
    one. Audited without either password."""
    check_password(new)
    try:
        checked = authenticate(store, hasher, user.user_id, current, client, now)
    except SignInRefused:
        raise WrongPassword("the password in use is not the one given") from None
    if new == current:
        raise Refusal("the new password is the one in use: choose another")
    entry = AuditEntry(now.astimezone(UTC), user.user_id, "user.password",
                       f"user:{user.user_id}", {"own": True})  # fmt: skip
    # Written only over the password just checked: an administrator's reset that came while
    # the new one was hashed (a compromised account's) is not undone by whoever knew the old.
    if not store.set_password(user.user_id, hasher.hash(new), entry, was=checked.password_hash):
        raise Refusal("your password was changed meanwhile, by an administrator: sign in again")

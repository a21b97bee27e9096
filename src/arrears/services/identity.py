"""Use cases of identity: create users, sign in (throttled), sessions and API tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from arrears.domain.access import Permission, Principal, require
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import DomainError, Refusal
from arrears.domain.invisible import is_blank
from arrears.domain.staff import CONSOLE, check_display_name, check_placement, check_user_id
from arrears.services.casework_ports import LOCALES, IdentityStore, PasswordHasher, UserRecord

SESSION_HOURS = 8  # one working day; signing in again after is cheap
TOKEN_DAYS_MAX = 90
THROTTLE_WINDOW = timedelta(minutes=15)
USER_FAILURES_MAX = 5  # per user name in the window (OWASP ASVS 2.2.1: anti-automation)
CLIENT_FAILURES_MAX = 20  # per client address in the window: one address trying many names
MIN_PASSWORD = 10  # NIST SP 800-63B 3.1.1.2 asks at least 8; 10 for staff who see PII


class SignInRefused(DomainError):
    """Wrong user name or password (which of the two is not said)."""


class SignInThrottled(DomainError):
    """Too many failed log-ins lately for this user name or from this address."""


class UserNotFound(Refusal):
    """No user has the id an administrator acted on."""


@dataclass(frozen=True)
class SessionGrant:
    """A new session: the cookie's token (shown once), its CSRF token and who it is."""

    token: str
    csrf: str
    user: UserRecord
    expires_at: datetime


def digest(token: str) -> str:
    """What the store keeps of a token: its SHA-256 (a stolen table opens no session)."""
    return hashlib.sha256(token.encode()).hexdigest()


def administering(by: Principal | None) -> str:
    """Who changes the people, as the audit log names them: a person allowed to administer
    the users, or (None) whoever holds the database, at the console."""
    if by is None:
        return CONSOLE
    require(by, Permission.USERS)
    return by.user_id


def _audit(now: datetime, actor: str, action: str, subject: str, **detail: object) -> AuditEntry:
    return AuditEntry(now.astimezone(UTC), actor, action, subject, dict(detail))


def create_user(
    store: IdentityStore,
    hasher: PasswordHasher,
    by: Principal | None,
    user: UserRecord,
    password: str,
    now: datetime,
) -> UserRecord:
    """Create a user with a hashed password (`by` None: the set-up of a new installation)."""
    actor = administering(by)
    check_user_id(user.user_id)
    check_display_name(user.display_name)
    check_password(password)
    if user.locale not in LOCALES:
        raise Refusal(
            "locale {locale} is not one of {locales}",
            locale=repr(user.locale),
            locales=", ".join(LOCALES),
        )
    check_placement(user.role, user.team_id, user.agency_id)
    stored = UserRecord(
        user.user_id,
        user.display_name,
        user.role,
        hasher.hash(password),
        user.team_id,
        user.agency_id,
        user.locale,
        user.active,
    )
    store.add_user(
        stored,
        now,
        _audit(
            now,
            actor,
            "user.create",
            f"user:{user.user_id}",
            role=user.role.value,
            team=user.team_id,
            agency=user.agency_id,
        ),
    )
    return stored


def check_password(password: str) -> None:
    """Refuse a password too short, or of nothing but spaces and characters nobody sees."""
    if is_blank(password):
        raise Refusal("a password cannot be blank or only spaces")
    if len(password) < MIN_PASSWORD:
        raise Refusal("a password has at least {n} characters", n=str(MIN_PASSWORD))


def authenticate(
    store: IdentityStore,
    hasher: PasswordHasher,
    user_id: str,
    password: str,
    client: str,
    now: datetime,
) -> UserRecord:
    """The user whose password this is (throttled by user name and by address), or a
    refusal that does not say which of the two was wrong. User ids are lower case
    (staff.py): "Alice" and " alice" sign in as alice, and count against one throttle. A
    failure is audited with the name as typed (the actor) about the user it names."""
    typed, user_id = user_id, _login_name(user_id)
    # Reserved before the password is checked (argon2 is slow): attempts sent at once each
    # count those before them, so no more than the limit are ever checked in a window.
    attempt, mine, theirs = store.reserve_attempt(user_id, client, now, now - THROTTLE_WINDOW)
    if mine > USER_FAILURES_MAX or theirs > CLIENT_FAILURES_MAX:
        store.release_attempt(attempt)  # refused unchecked: not a failure of its own
        # Audited all the same: guessing on past the limit must show (CASEWORK.md: every
        # failure is in the audit log).
        store.record_failure(
            _audit(now, typed[:64], "login.throttled", f"user:{user_id[:58]}", client=client),
        )
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        raise SignInThrottled(f"too many failed log-ins: try again in {minutes} minutes")
    try:
        user = _checked(store, hasher, user_id, password)
    except BaseException:
        store.release_attempt(attempt)  # (a failure of the check itself, not of the password)
        raise
    if user is None:
        store.record_failure(  # (its attempt stays reserved: a failure)
            _audit(now, typed[:64], "login.failed", f"user:{user_id[:58]}", client=client),
        )
        raise SignInRefused("wrong user name or password")
    store.release_attempt(attempt)
    return user


def named_user(store: IdentityStore, user_id: str) -> UserRecord:
    """The user an administrator names, found as sign-in finds them: blind to case and to the
    spaces around the id, the one spelled exactly so first (IdentityStore.user_named)."""
    user = store.user_named(user_id.strip())
    if user is None:
        raise UserNotFound("user {user_id} is not known", user_id=repr(user_id))
    return user


def _login_name(typed: str) -> str:
    """The user id a sign-in names: as typed, without the spaces around it, in lower case."""
    return typed.strip().lower()


def _checked(
    store: IdentityStore, hasher: PasswordHasher, user_id: str, password: str
) -> UserRecord | None:
    """The active user whose password this is, or None (a user id with capitals, made
    before the rule, is found by a case-blind match: ids differ in more than case)."""
    user = store.user_named(user_id)  # one query whoever is named: the timing tells nothing
    # Always one argon2 computation: the answer's timing tells neither who exists nor who
    # is disabled.
    if user is None:
        hasher.hash(password)
        matches = False
    else:
        matches = hasher.verify(user.password_hash, password)
    if user is None or not user.active or not matches:
        return None
    return user


def sign_in(
    store: IdentityStore,
    hasher: PasswordHasher,
    user_id: str,
    password: str,
    client: str,
    now: datetime,
) -> SessionGrant:
    """Check the password and open a session of the pages."""
    user = authenticate(store, hasher, user_id, password, client, now)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    until = now + timedelta(hours=SESSION_HOURS)
    store.open_session(
        digest(token),
        user.user_id,
        csrf,
        now,
        until,
        _audit(now, user.user_id, "login", f"user:{user.user_id}", client=client),
        user.password_hash,
    )
    return SessionGrant(token, csrf, user, until)


def session_user(store: IdentityStore, token: str, now: datetime) -> tuple[UserRecord, str] | None:
    """The user of a session cookie still valid, with the session's CSRF token."""
    found = store.session(digest(token), now)
    if found is None:
        return None
    user = store.user(found[0])
    return (user, found[1]) if user is not None else None


def sign_out(store: IdentityStore, token: str, user: UserRecord, now: datetime) -> None:
    """End a session."""
    store.close_session(digest(token), _audit(now, user.user_id, "logout", f"user:{user.user_id}"))


def issue_token(store: IdentityStore, user: UserRecord, name: str, days: int, now: datetime) -> str:
    """A bearer token for an API client of the user (shown once, stored as its hash)."""
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise DomainError(f"a token lasts 1 to {TOKEN_DAYS_MAX} days, not {days}")
    if not name.strip():
        raise DomainError("a token needs a name saying which client uses it")
    token = "arr_" + secrets.token_urlsafe(32)
    store.add_token(
        digest(token),
        user.user_id,
        name.strip(),
        now,
        now + timedelta(days=days),
        _audit(
            now, user.user_id, "token.issue", f"user:{user.user_id}", name=name.strip(), days=days
        ),
        user.password_hash,
    )
    return token


def token_user(store: IdentityStore, token: str, now: datetime) -> UserRecord | None:
    """The user of a bearer token still valid."""
    user_id = store.token_user(digest(token), now)
    return store.user(user_id) if user_id is not None else None


def set_locale(store: IdentityStore, user: UserRecord, locale: str, now: datetime) -> None:
    """Switch the user's language (audited like every change to an account; the same
    language again changes nothing)."""
    if locale not in LOCALES:
        raise Refusal(
            "locale {locale} is not one of {locales}",
            locale=repr(locale),
            locales=", ".join(LOCALES),
        )
    if locale == user.locale:
        return
    entry = _audit(
        now,
        user.user_id,
        "user.locale",
        f"user:{user.user_id}",
        **{"from": user.locale, "to": locale},
    )
    store.set_locale(user.user_id, locale, entry)


def list_users(store: IdentityStore, by: Principal) -> list[UserRecord]:
    """Every user (the administrator's view; password hashes stay in the store)."""
    require(by, Permission.USERS)
    return store.users()


def set_user_active(
    store: IdentityStore, by: Principal, user_id: str, active: bool, now: datetime
) -> str:
    """Enable or disable a user; an administrator cannot disable themselves (someone must be
    left to undo it). Returns the user's id as stored."""
    require(by, Permission.USERS)
    user_id = named_user(store, user_id).user_id
    if user_id == by.user_id and not active:
        raise Refusal("you cannot disable your own account")
    entry = _audit(now, by.user_id, "user.enable" if active else "user.disable", f"user:{user_id}")
    if not store.set_active(user_id, active, entry):
        raise UserNotFound("user {user_id} is not known", user_id=repr(user_id))
    return user_id

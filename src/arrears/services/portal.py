"""The borrower portal's way in (docs/PORTAL.md): the lender gives a borrower a one-time link
(in a text, its app, a letter); opening it starts a short session in which the borrower sees
their own loans and nothing else. Links and sessions are kept as SHA-256 digests only."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.services.casework_ports import LOCALES
from arrears.services.identity import digest

# A link goes out in a text the borrower may read the next morning: a day by default, a week
# at most (a longer-lived link is a standing key to their file).
LINK_MINUTES = 24 * 60
LINK_MINUTES_MAX = 7 * 24 * 60
# A session lasts half an hour from opening: long enough to read a statement and act on it,
# short on a shared or lost phone (PIPL Art. 51: security measures proportionate to the data).
SESSION_MINUTES = 30
# The audit log's actor for what a borrower does in the portal (the subject names them), and
# the one who grants what they ask within the lender's self-service limits: a ':' is in no
# user id (domain/staff.py), so neither reads as a person on the desk.
BORROWER_ACTOR = "portal:borrower"
POLICY = "portal:policy"


class PortalRefused(Refusal):
    """A link or session that opens nothing (unknown, used, expired: never said which)."""


class BorrowerNotFound(Refusal):
    """No borrower of that id."""


@dataclass(frozen=True)
class PortalBorrower:
    """Who a portal session belongs to, as the portal greets them."""

    borrower_id: str
    name: str
    locale: str | None  # their language on record (None: the browser's)


@dataclass(frozen=True)
class PortalSession:
    """A borrower's open session: whose, its CSRF token, its language, its end."""

    borrower_id: str
    csrf: str
    locale: str
    expires_at: datetime


@dataclass(frozen=True)
class PortalGrant:
    """A session just opened from a link: the cookie's token (shown once) and the session."""

    token: str
    session: PortalSession


class PortalStore(Protocol):
    """Links, sessions and the borrowers they belong to."""

    def borrower(self, borrower_id: str) -> PortalBorrower | None:
        """The borrower, if there is one of that id."""
        ...

    def loan_ids(self, borrower_id: str) -> list[str]:
        """The borrower's loans, by contract date then id."""
        ...

    def add_link(
        self, link_hash: str, borrower_id: str, at: datetime, until: datetime, audit: AuditEntry
    ) -> None:
        """Keep a link (by its token's digest) with its audit entry, in one transaction."""
        ...

    def link_borrower(self, link_hash: str, now: datetime) -> str | None:
        """The borrower of a link that would still open at `now` (unused, not expired)."""
        ...

    def redeem(
        self, link_hash: str, now: datetime, session: PortalSession, token_hash: str,
        audit: AuditEntry,
    ) -> bool:  # fmt: skip
        """Mark the link used and open the session (it must be the link's borrower's), with
        the audit entry, in one transaction; False, and nothing written, when the link no
        longer opens at `now` (used meanwhile, expired, unknown)."""
        ...

    def session(self, token_hash: str, now: datetime) -> PortalSession | None:
        """A session still open at `now`."""
        ...

    def set_session_locale(self, token_hash: str, locale: str) -> None:
        """Switch a session's language."""
        ...

    def close_session(self, token_hash: str, audit: AuditEntry) -> None:
        """End a session, audited."""
        ...


def _audit(
    now: datetime, actor: str, action: str, borrower_id: str, **detail: object
) -> AuditEntry:
    """An audit entry about the borrower."""
    return AuditEntry(now.astimezone(UTC), actor, action, f"borrower:{borrower_id}", dict(detail))


def issue_link(
    store: PortalStore, borrower_id: str, minutes: int, now: datetime, by: str
) -> tuple[str, datetime]:
    """A one-time link token for the borrower's portal and when it stops opening (`by`: who
    asked, audited); BorrowerNotFound for an unknown borrower."""
    if not 1 <= minutes <= LINK_MINUTES_MAX:
        raise Refusal(
            "a portal link lasts 1 to {most} minutes, not {minutes}",
            most=str(LINK_MINUTES_MAX), minutes=str(minutes),
        )  # fmt: skip
    if store.borrower(borrower_id) is None:
        raise BorrowerNotFound("no borrower {borrower_id}", borrower_id=repr(borrower_id))
    token = secrets.token_urlsafe(32)
    until = now + timedelta(minutes=minutes)
    store.add_link(digest(token), borrower_id, now, until,
                   _audit(now, by, "portal.link", borrower_id, minutes=minutes))  # fmt: skip
    return token, until


def link_opens(store: PortalStore, token: str, now: datetime) -> bool:
    """Whether a link would open now (a page asks before the borrower confirms: a preview of
    the link by a messaging app must not use it up)."""
    return store.link_borrower(digest(token), now) is not None


def open_link(store: PortalStore, token: str, now: datetime, locale: str) -> PortalGrant:
    """Use a link once: a session of its borrower in their language on record, else
    `locale`; PortalRefused (the same words whatever the cause) when it no longer opens."""
    link_hash = digest(token)
    borrower_id = store.link_borrower(link_hash, now)
    found = store.borrower(borrower_id) if borrower_id is not None else None
    if found is not None:
        shown = found.locale if found.locale in LOCALES else locale
        session_token = secrets.token_urlsafe(32)
        session = PortalSession(found.borrower_id, secrets.token_urlsafe(32), shown,
                                now + timedelta(minutes=SESSION_MINUTES))  # fmt: skip
        audit = _audit(now, BORROWER_ACTOR, "portal.sign_in", found.borrower_id)
        # False when another request used the link meanwhile: refused as any other.
        if store.redeem(link_hash, now, session, digest(session_token), audit):
            return PortalGrant(session_token, session)
    raise PortalRefused("this link no longer opens: ask the lender for a new one")


def portal_session(store: PortalStore, token: str, now: datetime) -> PortalSession | None:
    """The session of a portal cookie, if still open."""
    return store.session(digest(token), now)


def set_portal_locale(store: PortalStore, token: str, locale: str) -> None:
    """Switch the session's language (one of LOCALES)."""
    if locale not in LOCALES:
        raise Refusal("locale {locale} is not one of {locales}", locale=repr(locale),
                      locales=", ".join(LOCALES))  # fmt: skip
    store.set_session_locale(digest(token), locale)


def sign_out(store: PortalStore, token: str, session: PortalSession, now: datetime) -> None:
    """End the session."""
    audit = _audit(now, BORROWER_ACTOR, "portal.sign_out", session.borrower_id)
    store.close_session(digest(token), audit)

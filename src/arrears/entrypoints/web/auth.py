"""Who is asking: a session cookie (pages, with CSRF on every change) or a bearer token (API)."""

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from arrears.bootstrap import App
from arrears.domain.access import Principal
from arrears.services.casework_ports import UserRecord
from arrears.services.identity import session_user, token_user

SESSION_COOKIE = "arrears_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(Exception):
    """No valid session or token."""


class CsrfRejected(Exception):
    """A change sent with a session cookie but without its CSRF token."""


@dataclass(frozen=True)
class Actor:
    """The signed-in person of a request and how they proved it."""

    user: UserRecord
    csrf: str | None  # the session's CSRF token (None for a bearer token)
    token: str | None  # the session cookie's value (to sign out)

    @property
    def principal(self) -> Principal:
        """The person as access rules see them."""
        return self.user.principal()


def client_of(request: Request) -> str:
    """The address a request came from, which the sign-in throttle counts failures by."""
    return request.client.host if request.client else "unknown"


def application(request: Request) -> App:
    """The wired application the server runs on."""
    return request.app.state.arrears  # type: ignore[no-any-return]


# Declared so the OpenAPI schema says how API clients authenticate (a missing or malformed
# header is not refused here: the session cookie may still sign the request in).
BEARER = HTTPBearer(auto_error=False, description="a token from POST /api/v1/tokens")


async def current_actor(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Actor:
    """The request's signed-in person, or NotSignedIn; a change made with a session cookie
    must carry the session's CSRF token (header or form field), else CsrfRejected."""
    app, now = application(request), request.app.state.clock()
    if bearer is not None:
        user = token_user(app.identity, bearer.credentials, now)
        if user is None:
            raise NotSignedIn("the bearer token is unknown, expired or revoked")
        return Actor(user, None, None)
    cookie = request.cookies.get(SESSION_COOKIE)
    found = session_user(app.identity, cookie, now) if cookie else None
    if found is None:
        raise NotSignedIn("sign in first")
    user, csrf = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and "form" in request.headers.get("content-type", ""):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if sent is None or not hmac.compare_digest(sent.encode(), csrf.encode()):
            raise CsrfRejected("the form is stale or not from this site: reload the page")
    return Actor(user, csrf, cookie)


CurrentActor = Annotated[Actor, Depends(current_actor)]
Application = Annotated[App, Depends(application)]

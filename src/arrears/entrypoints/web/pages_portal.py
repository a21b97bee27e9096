"""The borrower portal's pages (docs/PORTAL.md): a one-time link opens a short session in which
a borrower reads their own loans, every amount with its reason, in their language."""

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from arrears.entrypoints.web import i18n
from arrears.entrypoints.web.auth import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, application
from arrears.entrypoints.web.page_render import render_in
from arrears.entrypoints.web.portal_views import portal_statement
from arrears.services.portal import (
    SESSION_MINUTES,
    PortalSession,
    link_opens,
    open_link,
    portal_session,
    set_portal_locale,
    sign_out,
)

router = APIRouter(include_in_schema=False)
PORTAL_COOKIE = "arrears_portal"
# A statement is nobody else's business: not kept by a shared phone's browser or a proxy, and
# the link's token never sent on as a Referer.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class PortalSignedOut(Exception):
    """No open portal session (never one, expired, or signed out)."""


class PortalCsrfRejected(Exception):
    """A change in the portal sent without its session's CSRF token."""


@dataclass(frozen=True)
class Borrower:
    """The borrower of a request's portal session, and the cookie's token."""

    session: PortalSession
    token: str


async def current_borrower(request: Request) -> Borrower:
    """The request's portal session, or PortalSignedOut; a change must carry the session's
    CSRF token (form field or header), else PortalCsrfRejected."""
    token = request.cookies.get(PORTAL_COOKIE)
    now = request.app.state.clock()
    found = portal_session(application(request).portal, token, now) if token else None
    if found is None or token is None:
        raise PortalSignedOut("signed-out")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and "form" in request.headers.get("content-type", ""):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if sent is None or not hmac.compare_digest(sent.encode(), found.csrf.encode()):
            raise PortalCsrfRejected("csrf")
    return Borrower(found, token)


CurrentBorrower = Annotated[Borrower, Depends(current_borrower)]


def portal_page(
    request: Request, template: str, locale: str, code: int = 200, **context: object
) -> Response:
    """A portal page in `locale`, kept private."""
    page = render_in(request, template, locale, None, code, **context)
    page.headers.update(PRIVATE)
    return page


def browser_locale(request: Request) -> str:
    """The language the browser asks for (zh-CN when it asks for none of ours)."""
    return i18n.negotiate(request.headers.get("accept-language"))


@router.get("/p/{token}")
def link_page(request: Request, token: str) -> Response:
    """What a link shows before it is used: a button that opens the portal (a messaging
    app's preview of the link fetches this page and uses nothing up)."""
    now = request.app.state.clock()
    opens = link_opens(application(request).portal, token, now)
    return portal_page(request, "portal_link.html", browser_locale(request),
                       200 if opens else 410, opens=opens, token=token,
                       session_minutes=SESSION_MINUTES)  # fmt: skip


@router.post("/p/{token}")
def use_link(request: Request, token: str) -> Response:
    """Use the link: open a session and go to the borrower's statement."""
    now = request.app.state.clock()
    grant = open_link(application(request).portal, token, now, browser_locale(request))
    answer = RedirectResponse("/my", status_code=303, headers=PRIVATE)
    answer.set_cookie(
        PORTAL_COOKIE, grant.token, max_age=SESSION_MINUTES * 60, httponly=True,
        samesite="lax", secure=request.url.scheme == "https",
    )  # fmt: skip
    return answer


@router.get("/my")
def statement(request: Request, borrower: CurrentBorrower) -> Response:
    """The borrower's loans, every amount with its reason."""
    app, now = application(request), request.app.state.clock()
    session = borrower.session
    found = app.portal.borrower(session.borrower_id)
    loans = portal_statement(app, session.borrower_id, now)
    return portal_page(request, "portal.html", session.locale, session=session,
                       borrower_name=found.name if found else "", loans=loans)  # fmt: skip


@router.post("/my/locale")
def change_locale(
    request: Request, borrower: CurrentBorrower, locale: Annotated[str, Form()]
) -> Response:
    """Switch the portal's language for this session."""
    set_portal_locale(application(request).portal, borrower.token, locale)
    return RedirectResponse("/my", status_code=303, headers=PRIVATE)


@router.post("/my/sign-out")
def leave(request: Request, borrower: CurrentBorrower) -> Response:
    """End the session: the cookie opens nothing after."""
    sign_out(application(request).portal, borrower.token, borrower.session,
             request.app.state.clock())  # fmt: skip
    page = portal_page(request, "portal_out.html", borrower.session.locale)
    page.delete_cookie(PORTAL_COOKIE)
    return page


def signed_out_page(request: Request, code: int, message: str) -> Response:
    """A portal refusal as the borrower reads it (not the workbench's sign-in page):
    `message` is "signed-out", "csrf", or a refusal's template."""
    return portal_page(request, "portal_error.html", browser_locale(request), code,
                       message=message)  # fmt: skip

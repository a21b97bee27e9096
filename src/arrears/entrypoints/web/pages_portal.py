"""The borrower portal's pages (docs/PORTAL.md): a one-time link opens a short session in which
a borrower reads their own loans, every amount with its reason, in their language."""

import hmac
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from arrears.bootstrap import App
from arrears.domain.approvals import BORROWER_LIMITS, MAX_EXTENSION_DAYS, MAX_PLAN_MONTHS
from arrears.domain.errors import Refusal
from arrears.entrypoints.desk_calendar import desk_day, desk_zone
from arrears.entrypoints.web.auth import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, application
from arrears.entrypoints.web.page_render import (
    PORTAL_COOKIE,
    PRIVATE,
    browser_locale,
    portal_page,
)
from arrears.entrypoints.web.portal_views import portal_statement, statement_state
from arrears.services.contact_check import borrower_days
from arrears.services.content_check import NOTE_MAX
from arrears.services.portal import (
    SESSION_MINUTES,
    PortalSession,
    link_opens,
    open_link,
    portal_session,
    set_portal_locale,
    sign_out,
)
from arrears.services.portal_requests import (
    PortalLoanNotFound,
    dispute_debt,
    own_dispute,
    request_change,
)

router = APIRouter(include_in_schema=False)


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


@router.get("/p/{token}")
def link_page(request: Request, token: str) -> Response:
    """What a link shows before it is used: a button that opens the portal (a messaging
    app's preview of the link fetches this page and uses nothing up)."""
    now = request.app.state.clock()
    opens = link_opens(application(request).portal, token, now)
    return portal_page(request, "portal_link.html", browser_locale(request),
                       200 if opens else 410, opens=opens, token=token,
                       session_minutes=SESSION_MINUTES)  # fmt: skip


def same_site(request: Request) -> bool:
    """Whether a form was sent from this site's own page: by the browser's Sec-Fetch-Site
    (every current browser sends it), else by the Origin's host; a request with neither (a
    script, an old browser) shows no sign of another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    # The host alone: behind a proxy that ends TLS the scheme seen here is not the browser's.
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


@router.post("/p/{token}")
def use_link(request: Request, token: str) -> Response:
    """Use the link: open a session and go to the borrower's statement. Only from the link's
    own page: another site's form must not sign a visitor into someone else's portal. A
    session the browser had open ends (it is replaced)."""
    if not same_site(request):
        raise PortalCsrfRejected("csrf")
    app, now = application(request), request.app.state.clock()
    grant = open_link(app.portal, token, now, browser_locale(request))
    before = request.cookies.get(PORTAL_COOKIE)
    found = portal_session(app.portal, before, now) if before else None
    if before and found is not None:
        sign_out(app.portal, before, found, now)
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
    # No loan, no pack to count their days: nothing of theirs to dispute either.
    today = min(_days(app, session.borrower_id, now)) if loans else desk_day(now)
    # Only an open one: a dispute the desk lifted today may be opened again (PORTAL.md), so
    # its form shows (it had said collection waits for an answer given: helper-116).
    found_dispute = own_dispute(app.contacts, session.borrower_id, today)
    dispute = found_dispute if found_dispute and found_dispute.ends_on is None else None
    return portal_page(request, "portal.html", session.locale, session=session,
                       borrower_name=found.name if found else "", loans=loans,
                       limits=BORROWER_LIMITS, dispute=dispute, reason_max=NOTE_MAX)  # fmt: skip


@router.post("/my/loans/{loan_id}/requests")
def ask(
    request: Request,
    loan_id: str,
    borrower: CurrentBorrower,
    kind: Annotated[str, Form(max_length=16)],
    months: Annotated[int, Form(ge=0, le=MAX_PLAN_MONTHS)] = 0,
    days: Annotated[int, Form(ge=0, le=MAX_EXTENSION_DAYS)] = 0,
) -> Response:
    """Ask for a plan (months) or an extension (days) on one of the borrower's loans: granted
    at once within the lender's self-service limits, else sent to the lender to decide."""
    app, now = application(request), request.app.state.clock()
    theirs = app.portal.loan_ids(borrower.session.borrower_id)
    if loan_id not in theirs:  # no other borrower's loan is even read
        raise PortalLoanNotFound("loan {loan_id} not found", loan_id=repr(loan_id))
    state = statement_state(app, loan_id, now)  # what the statement shows past due
    today = desk_day(now)
    began = datetime.combine(today, time(0), desk_zone())
    request_change(app.desk, theirs, state, kind, months if kind == "plan" else days, now,
                   today, began)  # fmt: skip
    return RedirectResponse("/my#requests", status_code=303, headers=PRIVATE)


@router.post("/my/dispute")
def dispute(
    request: Request,
    borrower: CurrentBorrower,
    reason: Annotated[str, Form(max_length=2 * NOTE_MAX)],
) -> Response:
    """Dispute what the borrower is asked to pay: collection contacts pause until the desk
    answers (a dispute hold from today, their reason its note)."""
    app, now = application(request), request.app.state.clock()
    borrower_id = borrower.session.borrower_id
    if not app.portal.loan_ids(borrower_id):
        # The page offers no form: nothing of theirs to dispute (and no pack to count their
        # day in: the staff's words had answered them in English, helper-116).
        raise Refusal("you have no loan with us to dispute")
    dispute_debt(app.contacts, borrower_id, reason, _days(app, borrower_id, now), now)
    return RedirectResponse("/my#dispute", status_code=303, headers=PRIVATE)


def _days(app: App, borrower_id: str, now: datetime) -> list[date]:
    """The borrower's local days now (each pack's day zone) and the desk's: a dispute placed
    from the earliest covers their today wherever a hold rule asks."""
    return [*borrower_days(app.contacts, app.contact_terms, borrower_id, now), desk_day(now)]


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

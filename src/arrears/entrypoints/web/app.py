"""The FastAPI application: API and pages, errors turned into clear answers."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from arrears.bootstrap import App
from arrears.domain.access import Forbidden
from arrears.domain.errors import DomainError, Refusal
from arrears.domain.outsourcing import AgencyNotCleared
from arrears.entrypoints.web import (
    api,
    api_admin,
    api_desk,
    i18n,
    page_render,
    pages,
    pages_admin,
    pages_case,
    pages_desk,
    pages_portal,
    pages_replies,
)
from arrears.entrypoints.web.auth import CsrfRejected, NotSignedIn
from arrears.entrypoints.web.invalid_text import problems_text, where
from arrears.entrypoints.web.pages_portal import PortalCsrfRejected, PortalSignedOut
from arrears.entrypoints.web.text_guard import refuse_nul
from arrears.services.casework import CaseNotFound
from arrears.services.contact_check import reason_document
from arrears.services.desk_contact import ContactBlocked
from arrears.services.field_visit import GuardRefused
from arrears.services.identity import SignInRefused, SignInThrottled, UserNotFound
from arrears.services.legal import TimeBarred
from arrears.services.portal import PortalRefused
from arrears.services.portal_requests import PortalLoanNotFound
from arrears.services.replies import ReplyRefused
from arrears.services.step_checks import StepBlocked

STATIC = Path(__file__).with_name("static")
Clock = Callable[[], datetime]

# Where an escalation guard comes from: the case's strategy ladder (docs/STRATEGY.md).
GUARD_SOURCE = "the strategy ladder's escalation guard: the gentler steps the action requires"


def system_clock() -> datetime:
    """Now, in UTC (the one place the server reads the clock)."""
    return datetime.now(UTC)


def create_app(application: App, clock: Clock = system_clock) -> FastAPI:
    """The web application over a wired `App` (its database migrated)."""
    web = FastAPI(
        title="arrears",
        version="1",
        description="Collections case work: queues, cases, contacts under the rules, "
        "promises, proposals and approvals, audit.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        dependencies=[Depends(refuse_nul)],  # no text with a NUL reaches a route
    )
    web.state.arrears = application
    web.state.clock = clock
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (api.router, api_desk.router, api_admin.router, pages.router,
                   pages_case.router, pages_desk.router, pages_admin.router,
                   pages_replies.router, pages_portal.router):  # fmt: skip
        web.include_router(router)
    _errors(web)
    return web


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(web: FastAPI) -> None:
    """Map the domain's refusals to HTTP answers: JSON for the API, a page for people."""

    def answer(request: Request, status: int, message: str, **extra: object) -> Response:
        if _is_api(request):
            return JSONResponse({"error": message, **extra}, status_code=status)
        return page_render.error_page(request, status, message)

    def refuse(request: Request, status: int, error: Exception) -> Response:
        """A refusal: in English on the API, in the reader's language on a page."""
        # A refusal passed on wrapped (ContactInputError: the console's exit code) is its cause.
        shown = error if isinstance(error, Refusal) else error.__cause__
        if _is_api(request) or not isinstance(shown, Refusal) or str(shown) != str(error):
            return answer(request, status, str(error))
        return page_render.error_page(request, status, shown.template, shown.values)

    @web.exception_handler(NotSignedIn)
    def not_signed_in(request: Request, error: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": str(error)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = quote(request.url.path)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": f"/login?next={target}"})
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @web.exception_handler(PortalSignedOut)
    def portal_signed_out(request: Request, error: PortalSignedOut) -> Response:
        return page_render.error_page(request, 401, str(error))  # a portal page: "signed-out"

    @web.exception_handler(PortalCsrfRejected)
    def portal_csrf(request: Request, error: PortalCsrfRejected) -> Response:
        return page_render.error_page(request, 403, str(error))

    @web.exception_handler(PortalRefused)
    def portal_refused(request: Request, error: PortalRefused) -> Response:
        return refuse(request, 410, error)

    @web.exception_handler(PortalLoanNotFound)
    def portal_no_loan(request: Request, error: PortalLoanNotFound) -> Response:
        return refuse(request, 404, error)

    @web.exception_handler(CsrfRejected)
    def csrf(request: Request, error: CsrfRejected) -> Response:
        return answer(request, 403, str(error))

    @web.exception_handler(Forbidden)
    def forbidden(request: Request, error: Forbidden) -> Response:
        return refuse(request, 403, error)

    @web.exception_handler(CaseNotFound)
    def not_found(request: Request, error: CaseNotFound) -> Response:
        return refuse(request, 404, error)

    @web.exception_handler(UserNotFound)
    def no_user(request: Request, error: UserNotFound) -> Response:
        return refuse(request, 404, error)

    @web.exception_handler(ContactBlocked)
    def blocked(request: Request, error: ContactBlocked) -> Response:
        reasons = [reason_document(r) for r in error.decision.reasons]
        if _is_api(request):
            return JSONResponse({"error": str(error), "reasons": reasons}, status_code=409)
        return page_render.blocked_fragment(request, error)

    @web.exception_handler(GuardRefused)
    def guarded(request: Request, error: GuardRefused) -> Response:
        if _is_api(request):
            # Each prerequisite missing, in the shape of every 409's reasons (ErrorOut): they
            # were texts, against the schema (helper-112).
            reasons = [
                {"rule": f"escalation.{error.action}", "source": GUARD_SOURCE, "detail": reason,
                 "passed": not reason.startswith("missing")}
                for reason in error.reasons
            ]  # fmt: skip
            return answer(request, 409, str(error), reasons=reasons)
        return refuse(request, 409, error)

    @web.exception_handler(StepBlocked)
    def step_blocked(request: Request, error: StepBlocked) -> Response:
        reasons = [reason_document(r) for r in error.decision.reasons]
        if _is_api(request):
            return JSONResponse({"error": str(error), "reasons": reasons}, status_code=409)
        return page_render.step_blocked_fragment(request, error)

    @web.exception_handler(ReplyRefused)
    def reply_refused(request: Request, error: ReplyRefused) -> Response:
        return refuse(request, 409, error)  # read already, or no one on its number

    @web.exception_handler(TimeBarred)
    def time_barred(request: Request, error: TimeBarred) -> Response:
        return refuse(request, 409, error)

    @web.exception_handler(AgencyNotCleared)
    def agency_not_cleared(request: Request, error: AgencyNotCleared) -> Response:
        return refuse(request, 409, error)  # the agency's standing, as a guard's refusal is

    @web.exception_handler(SignInThrottled)
    def throttled(request: Request, error: SignInThrottled) -> Response:
        return answer(request, 429, str(error))

    @web.exception_handler(SignInRefused)
    def refused(request: Request, error: SignInRefused) -> Response:
        return answer(request, 401, str(error))

    @web.exception_handler(DomainError)
    def domain(request: Request, error: DomainError) -> Response:
        return refuse(request, 422, error)

    @web.exception_handler(StarletteHTTPException)
    def http(request: Request, error: StarletteHTTPException) -> Response:
        # The framework's own refusals (a body that is not JSON, an unknown path or method)
        # in the same shape as ours.
        detail = error.detail if isinstance(error.detail, str) else "invalid request"
        if _is_api(request):
            return JSONResponse(
                {"error": detail},
                status_code=error.status_code,
                headers=getattr(error, "headers", None),
            )
        return page_render.error_page(request, error.status_code, detail)

    @web.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> Response:
        errors = error.errors()
        if not _is_api(request):  # a person reads it: in their language
            portal = page_render.is_portal(request)
            locale = (page_render.portal_locale(request) if portal
                      else page_render.locale_of(request, None))  # fmt: skip
            translate = i18n.translator(locale)
            shown = {"problems": problems_text(errors, translate)}
            return page_render.error_page(request, 422, "invalid request: {problems}", shown)
        problems = [{"where": where(e), "problem": e.get("msg", "")} for e in errors]
        text = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
        if any(e.get("type") == "json_invalid" for e in errors):
            # A body that cannot be read is a 400, as the schema says (helper-112: a 422).
            return answer(request, 400, f"the body is not JSON: {text}", problems=problems)
        return answer(request, 422, f"invalid request: {text}", problems=problems)

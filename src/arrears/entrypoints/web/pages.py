"""The workbench's pages (Jinja2, partial updates with htmx, zh-CN first): sign-in, language
and the queue."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from arrears.domain.access import Forbidden, scope_of
from arrears.domain.errors import DomainError, Refusal
from arrears.entrypoints.web.auth import SESSION_COOKIE, Application, CurrentActor, client_of
from arrears.entrypoints.web.page_render import error_page, render
from arrears.entrypoints.web.views import check_filters
from arrears.services import casework
from arrears.services.casework_ports import QueueFilter
from arrears.services.identity import (
    MIN_PASSWORD,
    SignInThrottled,
    set_locale,
    sign_in,
    sign_out,
)
from arrears.services.own_password import change_own_password

router = APIRouter(include_in_schema=False)
PRELOGIN_COOKIE = "arrears_prelogin"  # login CSRF: a double-submitted token


@router.get("/login")
def login_page(
    request: Request, app: Application, next: str = "/queue", changed: bool = False
) -> Response:
    """The sign-in form (with a fresh double-submit token against login CSRF); on a new
    installation, where nobody can sign in yet, how to make the first administrator;
    `changed`: after one's password was changed."""
    token = secrets.token_urlsafe(24)
    empty = not app.identity.users()
    page = render(request, "login.html", None, prelogin=token, next=_local(next), empty=empty,
                  changed=changed)  # fmt: skip
    page.set_cookie(PRELOGIN_COOKIE, token, httponly=True, samesite="strict")
    return page


@router.post("/login")
def login(
    request: Request,
    app: Application,
    user_id: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    prelogin: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=200)] = "/queue",
) -> Response:
    """Check the password and open a session (a form not from our page is refused)."""
    if not secrets.compare_digest(
        prelogin.encode(), request.cookies.get(PRELOGIN_COOKIE, "").encode()
    ):
        return error_page(request, 403, "the sign-in form is stale: reload the page")
    client = client_of(request)
    now = request.app.state.clock()
    try:
        grant = sign_in(app.identity, app.passwords, user_id, password, client, now)
    except DomainError as error:
        status = 429 if "too many" in str(error) else 401
        token = secrets.token_urlsafe(24)
        page = render(
            request,
            "login.html",
            None,
            status,
            prelogin=token,
            next=_local(next),
            error=str(error),
            user_id=user_id,
        )
        page.set_cookie(PRELOGIN_COOKIE, token, httponly=True, samesite="strict")
        return page
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        grant.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        # Relative, not the server's instant: a browser whose clock differs keeps it anyway
        # (the server ends the session at its own expiry whatever the cookie says).
        max_age=int((grant.expires_at - now).total_seconds()),
    )
    response.delete_cookie(PRELOGIN_COOKIE)
    return response


def _local(target: str) -> str:
    """Only a path of this site is a place to go after signing in (no open redirect)."""
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if local and not any(ord(c) < 32 for c in target) else "/queue"


@router.post("/logout")
def logout(request: Request, actor: CurrentActor, app: Application) -> Response:
    """End the session."""
    if actor.token is not None:
        sign_out(app.identity, actor.token, actor.user, request.app.state.clock())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/me/locale")
def change_locale(
    request: Request,
    actor: CurrentActor,
    app: Application,
    locale: Annotated[str, Form(max_length=8)],
    back: Annotated[str, Form(max_length=200)] = "/queue",
) -> Response:
    """Switch the signed-in user's language, back to the page it was switched on."""
    set_locale(app.identity, actor.user, locale, request.app.state.clock())
    return RedirectResponse(_local(back), status_code=303)


@router.get("/me/password")
def password_page(request: Request, actor: CurrentActor) -> Response:
    """The form to change one's own password."""
    return render(request, "password.html", actor, min_length=MIN_PASSWORD)


@router.post("/me/password")
def change_password(
    request: Request,
    actor: CurrentActor,
    app: Application,
    current: Annotated[str, Form(max_length=256)],
    new: Annotated[str, Form(max_length=256)],
    repeated: Annotated[str, Form(max_length=256)],
) -> Response:
    """Change one's own password, given the one in use; every session of the user ends, this
    one too: they sign in again with the new one."""
    if actor.csrf is None:  # a bearer token: revoked by the change, it is no way to make it
        raise Forbidden("a password is changed on its page, signed in: not with an API token")
    client = client_of(request)
    try:
        if new != repeated:
            raise Refusal("the new password and its repetition differ: type it twice alike")
        change_own_password(app.identity, app.passwords, actor.user, current, new, client,
                            request.app.state.clock())  # fmt: skip
    except DomainError as error:
        status = 429 if isinstance(error, SignInThrottled) else 422
        template, values = ((error.template, error.values) if isinstance(error, Refusal)
                            else (str(error), {}))  # fmt: skip
        return render(request, "password.html", actor, status, min_length=MIN_PASSWORD,
                      error=template, values=values)  # fmt: skip
    response = RedirectResponse("/login?changed=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home() -> Response:
    """The queue is the start page."""
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(
    request: Request,
    actor: CurrentActor,
    app: Application,
    stage: str | None = None,
    bucket: str | None = None,
    mine: bool = False,
) -> Response:
    """The work queue, highest priority first (an unknown stage or bucket is an error)."""
    check_filters(app, stage or None, bucket or None, None)
    which = QueueFilter(stage or None, bucket or None, None, actor.user.user_id if mine else None)
    items = casework.work_queue(app.desk, actor.principal, which, app.settings.queue_scale)
    return render(
        request,
        "queue.html",
        actor,
        items=items,
        stage=stage or "",
        bucket=bucket or "",
        mine=mine,
        scope=scope_of(actor.principal).kind.value,
        unweighed=casework.unweighed(items, app.settings.queue_scale),
        reference=app.settings.queue_scale.reference,
        stages=sorted({s.name for ladder in app.ladders.values() for s in ladder.stages}),
    )

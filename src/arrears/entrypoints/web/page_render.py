"""Rendering the workbench's pages and fragments in the viewer's language."""

import json
from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from arrears.domain.access import PERMISSIONS, Permission
from arrears.domain.content_lint import Finding
from arrears.domain.entry_rules import reason_words
from arrears.domain.errors import Clauses, Term, Terms, Words
from arrears.domain.evaluation import CAP_REFUND, CREDIT
from arrears.domain.money import format_amount, parse_amount
from arrears.domain.rates import format_rate
from arrears.domain.revisions import PLAN_SOURCE, WAIVER
from arrears.domain.rule_details import detail_words
from arrears.entrypoints.desk_calendar import desk_zone
from arrears.entrypoints.web import i18n, stage_names
from arrears.entrypoints.web.auth import SESSION_COOKIE, Actor, application
from arrears.services.desk_contact import ContactBlocked
from arrears.services.identity import session_user
from arrears.services.portal import BORROWER_ACTOR, POLICY, portal_session
from arrears.services.step_checks import StepBlocked

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
# What an allocation names in place of a payment: named in the reader's words ("payment:").
NOT_PAYMENTS = frozenset({CREDIT, CAP_REFUND, WAIVER, PLAN_SOURCE})


def desk_time(instant: str | datetime, minutes: bool = False) -> str:
    """An instant (ISO text or aware) on the desk's calendar: its day, or with `minutes` its
    day and time; what staff did is dated so, not by the UTC day (helper-124: a proposal
    made at 07:00 in Shanghai was dated the day before)."""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    local = moment.astimezone(desk_zone())
    return local.strftime("%Y-%m-%d %H:%M") if minutes else local.date().isoformat()


# An amount typed on a form, as the API's (yuan, at most two decimals, below 10^13).
AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"  # ASCII digits: `\d` takes any script's
# The borrower portal's session cookie (pages_portal.py).
PORTAL_COOKIE = "arrears_portal"
# A borrower's statement is nobody else's business: not kept by a shared phone's browser or a
# proxy, and a link's token never sent on as a Referer.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PORTAL_ACTORS = frozenset({BORROWER_ACTOR, POLICY})
# The desk logs calls and messages; a field visit goes through its own request and approval.
DESK_CHANNELS = ("call", "sms", "email", "letter")


def signed_in(request: Request) -> Actor | None:
    """The person whose session cookie the request carries, if it is valid (error pages
    are drawn outside the routes, which name their actor)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = session_user(application(request).identity, cookie, request.app.state.clock())
    return None if found is None else Actor(found[0], found[1], cookie)


def locale_of(request: Request, actor: Actor | None) -> str:
    """The viewer's language: the signed-in user's, else the browser's preference, else
    zh-CN."""
    if actor is None:
        actor = signed_in(request)
    if actor is not None:
        return actor.user.locale
    return browser_locale(request)


def render(
    request: Request, name: str, actor: Actor | None, code: int = 200, **context: Any
) -> HTMLResponse:
    """A page (or fragment) in the viewer's language."""
    return render_in(request, name, locale_of(request, actor), actor, code, **context)


def render_in(
    request: Request, name: str, locale: str, actor: Actor | None, code: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    """A page (or fragment) in the given language (a borrower's in the portal: no actor)."""
    may = PERMISSIONS[actor.user.role] if actor is not None else frozenset()

    def stage_name(stage: str, product: str | None = None, ladder: str | None = None) -> str:
        """A stage's name, by the case's own ladder when its product or ladder is given."""
        ladders = stage_names.own_first(application(request).ladders, product, ladder)
        return stage_names.stage_name(stage, locale, ladders)

    return templates.TemplateResponse(
        request,
        name,
        {
            "_": i18n.translator(locale),
            "locale": locale,
            "locales": i18n.NAMES,
            "actor": actor,
            "may": {p.name.lower(): p in may for p in Permission},
            "money": lambda minor: i18n.money(minor, locale),
            "amount": lambda minor, currency: i18n.amount(minor, currency, locale),
            "desk_time": desk_time,
            "NOT_PAYMENTS": NOT_PAYMENTS,
            # Characters as they are (Jinja's tojson wrote Chinese as \\uXXXX: helper-127),
            # the page escaping the text as any other.
            "as_json": lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True),
            "sign": lambda currency: i18n.sign(currency, locale),
            "currency_name": lambda currency: i18n.currency_name(currency, locale),
            "rule_name": lambda rule: i18n.catalogue(locale).get(f"rule:{rule}", ""),
            # An exact share as stored ("0.18", an agency's commission) as a reader reads
            # one: "18%" (the API keeps the share).
            "percent": lambda share: format_rate(Fraction(share)),
            # A legal source as its catalogue words it (looked up by its text), else as cited.
            "cite": lambda source: i18n.catalogue(locale).get(source) or source,
            "words": lambda value: shown_in(value, locale),  # the domain's Words, Term(s)
            "stage_reason": lambda reason: stage_reason(reason, locale),
            "rule_detail": lambda detail: rule_detail(detail, locale),
            "stage_name": stage_name,
            "spans": spans,
            "finding_rows": finding_rows,
            # Who did something: a user by their id; the portal's borrower and self-service
            # policy (services/portal.py) in the reader's language.
            "who": lambda actor: (
                i18n.catalogue(locale).get(actor, actor) if actor in PORTAL_ACTORS else actor
            ),
            # Who granted a borrower's request at once: its note is the policy's, no person's.
            "portal_policy": POLICY,
            "charge_totals": charge_totals,
            "cut_totals": cut_totals,
            **context,
        },
        status_code=code,
    )


def charge_totals(charges: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each kind of charge and its total, in the order kinds first appear."""
    totals: dict[str, int] = {}
    for charge in charges:
        totals[charge["kind"]] = totals.get(charge["kind"], 0) + parse_amount(charge["amount"])
    return [(kind, format_amount(total)) for kind, total in totals.items()]


def cut_totals(cuts: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Each cap rule that cut charges, the total it cut and its legal source."""
    totals: dict[str, tuple[int, str]] = {}
    for cut in cuts:
        was = totals.get(cut["rule"], (0, cut["source"]))
        totals[cut["rule"]] = (was[0] + parse_amount(cut["amount"]), was[1])
    return [(rule, format_amount(total), source) for rule, (total, source) in totals.items()]


# A finding as a page reads it: start, end, rule, the words, the source.
_Span = tuple[int, int, str, str, str]


def _span(finding: Finding | Mapping[str, Any]) -> _Span:
    """A finding just made (Finding) or as stored (a dict) in one shape."""
    if isinstance(finding, Finding):
        f = finding
        return f.start, f.end, f.rule_id, f.matched, f.source
    return (finding["start"], finding["end"], finding["rule"], finding["matched"],
            finding["source"])  # fmt: skip


def spans(text: str, findings: list[Any] | tuple[Any, ...] | None) -> list[tuple[str, str | None]]:
    """The text in pieces, each found piece with the rule that found it first (overlapping
    findings marked as one piece), for a template to mark them."""
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for start, end, rule, _words, _source in sorted(_span(f) for f in findings or ()):
        if end <= at:
            continue
        start = max(start, at)
        pieces += [(text[at:start], None), (text[start:end], rule)]
        at = end
    pieces.append((text[at:], None))
    return [piece for piece in pieces if piece[0]]


def finding_rows(
    findings: list[Any] | tuple[Any, ...] | None,
) -> list[tuple[str, list[str], str]]:
    """Each rule that found something, in the order first found: its words (each once) and
    its source."""
    rows: dict[str, tuple[list[str], str]] = {}
    for _start, _end, rule, words, source in (_span(f) for f in findings or ()):
        found, _ = rows.setdefault(rule, ([], source))
        if words not in found:
            found.append(words)
    return [(rule, words, source) for rule, (words, source) in rows.items()]


def is_portal(request: Request) -> bool:
    """Whether the request is the borrower portal's (its refusals are drawn as its pages)."""
    path = request.url.path
    return path == "/my" or path.startswith(("/my/", "/p/"))


def browser_locale(request: Request) -> str:
    """The language the browser asks for (zh-CN when it asks for none of ours)."""
    return i18n.negotiate(request.headers.get("accept-language"))


def portal_locale(request: Request) -> str:
    """The portal reader's language: their open session's, else the browser's."""
    token = request.cookies.get(PORTAL_COOKIE)
    now = request.app.state.clock()
    found = portal_session(application(request).portal, token, now) if token else None
    return found.locale if found else browser_locale(request)


def portal_page(
    request: Request, template: str, locale: str, code: int = 200, **context: object
) -> HTMLResponse:
    """A borrower portal page in `locale`, kept private (PRIVATE)."""
    page = render_in(request, template, locale, None, code, **context)
    page.headers.update(PRIVATE)
    return page


def error_page(
    request: Request,
    status: int,
    message: str,
    values: Mapping[str, str | Words | Term | Terms | Clauses] | None = None,
) -> Response:
    """A refusal as a page (or, for htmx, a fragment in place of what was asked): the message
    is looked up in the reader's language, then its {placeholders} filled with `values`; in
    the portal, as its own page."""
    if is_portal(request):
        locale = portal_locale(request)
        shown = {key: shown_in(value, locale) for key, value in (values or {}).items()}
        return portal_page(request, "portal_error.html", locale, status, message=message,
                           values=shown)  # fmt: skip
    name = "fragments/error.html" if request.headers.get("hx-request") else "error.html"
    actor = signed_in(request)  # the page keeps its header: the nav and the sign-out
    locale = locale_of(request, actor)
    shown = {key: shown_in(value, locale) for key, value in (values or {}).items()}
    return render(request, name, actor, status, status=status, message=message, values=shown)


def stage_reason(reason: str, locale: str) -> str:
    """Why a case is in its stage, as the run stored it, in the reader's language (a text
    the domain does not word so, as it is)."""
    said = reason_words(reason)
    return reason if said is None else shown_in(said, locale)


def rule_detail(detail: str, locale: str) -> str:
    """What a contact rule found, as the check said it, in the reader's language (a text
    the domain does not word so, as it is)."""
    said = detail_words(detail)
    return detail if said is None else shown_in(said, locale)


def shown_in(value: str | Words | Term | Terms | Clauses, locale: str) -> str:
    """A refusal's value in the reader's language: Words translated with their own values
    shown so, a Term by its catalogue key, Terms each so and listed as the language lists
    them, Clauses each so one after another (a plain value as it is)."""
    translate = i18n.translator(locale)
    if isinstance(value, Words):
        inner = {key: shown_in(v, locale) for key, v in value.values.items()}
        return translate(value.template, **inner)
    if isinstance(value, Term):
        found = translate(value.key)
        return value.text if found == value.key else found
    if isinstance(value, Terms):
        return i18n.listed([shown_in(term, locale) for term in value.terms], value.joined, locale)
    if isinstance(value, Clauses):
        said = [shown_in(c, locale) for c in value.clauses]
        return i18n.one_after_another(said, value.separator, locale)
    return value


def step_blocked_fragment(request: Request, error: StepBlocked) -> Response:
    """A legal step the contact rules refused on its day, with each broken rule."""
    day = error.on.isoformat()
    return render(request, "fragments/step_blocked.html", None, 409, day=day,
                  decision=error.decision)  # fmt: skip


def blocked_fragment(request: Request, error: ContactBlocked) -> Response:
    """A contact the rules refused, with every rule's reason (shown where the form was)."""
    return render(
        request, "fragments/contact_result.html", None, 200, blocked=True, decision=error.decision
    )

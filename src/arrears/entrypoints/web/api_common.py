"""What every API router shares: refusals in one documented shape, strict bodies, ids."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

from arrears.domain.day_range import DAY_TEXT, FIRST_DAY, INSTANT_TEXT, LAST_DAY
from arrears.domain.errors import DomainError
from arrears.entrypoints.web.page_render import AMOUNT_PATTERN


class ErrorOut(BaseModel):
    """Every refusal: what is wrong, in words; with the rules or the fields when there are."""

    error: str
    problems: list[dict[str, str]] | None = None  # 422: each invalid field and why
    # 409: every rule of a blocked contact or step, each prerequisite an escalation guard
    # found missing ({"rule", "source", "detail", "passed"})
    reasons: list[dict[str, Any]] | None = None


REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "a body that cannot be read (not JSON)"),
        (401, "not signed in, or a wrong user name or password"),
        (403, "the role may not do this"),
        (404, "no such case in the caller's scope, or no such user"),
        (409, "the contact rules forbid this contact now"),
        (422, "invalid input, or a rule of the domain refuses it"),
        (429, "too many failed log-ins"),
    )
}


def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not know is an error, not ignored (a misspelt
    filter would otherwise return the whole queue)."""
    route = request.scope.get("route")
    known = {p.alias for p in route.dependant.query_params} if route is not None else set()
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise DomainError(
            f"unknown query parameter(s): {', '.join(unknown)}"
            + (f"; this route takes {', '.join(sorted(known))}" if known else "")
        )


def api_router(tag: str) -> APIRouter:
    """A router of the API: under /api/v1, refusals documented, unknown queries refused."""
    return APIRouter(prefix="/api/v1", tags=[tag], responses=REFUSALS,
                     dependencies=[Depends(refuse_unknown_query)])  # fmt: skip


Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Amount = Annotated[str, Field(pattern=AMOUNT_PATTERN, examples=["1062.34"])]


def _a_day(value: object) -> object:
    """A day as JSON writes one: text, YYYY-MM-DD (not a day with a time, nor a number)."""
    if isinstance(value, str) and DAY_TEXT.fullmatch(value):
        return value
    raise ValueError("a day is written as text, YYYY-MM-DD")


def _an_instant(value: object) -> object:
    """An instant as JSON writes one: ISO 8601 text (not a number of seconds, nor its text:
    Pydantic reads "1759285800" as one, helper-90), on a day the product takes."""
    if isinstance(value, str) and INSTANT_TEXT.fullmatch(value):
        return in_day_range(value)
    raise ValueError("an instant is written as ISO 8601 text with its UTC offset")


def in_day_range(text: str) -> datetime:
    """An instant's text read, its day one the product takes (day_range: 1900-01-01 to
    2199-12-31), else ValueError: 0001-01-01T00:00+09:00 fell off Python's calendar when put
    in the desk's zone, a 500 (helper-112). Read here, not by Pydantic, which reads no
    ISO 8601 basic format (20251001T100000+0800, helper-126)."""
    instant = datetime.fromisoformat(text)
    if not FIRST_DAY <= instant.date() <= LAST_DAY:
        raise ValueError(f"an instant falls between {FIRST_DAY} and {LAST_DAY}")
    return instant


def _a_desk_instant(value: object) -> object:
    """An instant as a form writes one: ISO 8601 text, its UTC offset if any (else the
    desk's local time), on a day the product takes."""
    if isinstance(value, str) and INSTANT_TEXT.fullmatch(value):
        return in_day_range(value)
    raise ValueError("an instant is written as ISO 8601 text, e.g. 2025-10-03T10:30")


# JSON's own types taken as they are, not converted: "yes" is no boolean, "2" no number of
# months, a number of seconds no instant, a day with a time no day (Pydantic's lax mode took
# each, and acted on it: helper-89).
Flag = StrictBool
Count = StrictInt
Day = Annotated[date, BeforeValidator(_a_day)]
Instant = Annotated[datetime, BeforeValidator(_an_instant)]
DeskInstant = Annotated[datetime, BeforeValidator(_a_desk_instant)]


class Strict(BaseModel):
    """Request bodies refuse fields they do not know (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")

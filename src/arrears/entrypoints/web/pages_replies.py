"""Borrowers' replies to texts on the workbench: those waiting to be read, and a person's
reading of one (docs/CHANNELS.md, "Replies")."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from arrears.domain.replies import TO_READ, StoredReply
from arrears.entrypoints.desk_calendar import desk_day, desk_zone
from arrears.entrypoints.presenters import reply_document, reply_documents
from arrears.entrypoints.web.auth import Application, CurrentActor
from arrears.entrypoints.web.page_render import render
from arrears.services.replies import read_as, replies_for

router = APIRouter(include_in_schema=False)
SHOWN = 200  # the oldest this many waiting: the desk works them oldest first


@router.get("/replies")
def replies_page(request: Request, actor: CurrentActor, app: Application) -> Response:
    """Replies waiting to be read, oldest first, each with its two answers."""
    waiting = replies_for(app.replies, actor.principal, (TO_READ,), SHOWN)
    today = desk_day(request.app.state.clock()).isoformat()
    return render(request, "replies.html", actor, today=today,
                  replies=[_shown(r, d) for r, d in zip(waiting, reply_documents(app, waiting),
                                                      strict=True)])  # fmt: skip


@router.post("/replies/{reply_id}")
def read_reply_page(
    request: Request,
    reply_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    actor: CurrentActor,
    app: Application,
    stop: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    """Record the reading: it asks to stop texts (the borrowers on the number opted out from
    when it came) or not."""
    done = read_as(app.replies, actor.principal, reply_id, stop == "yes",
                   request.app.state.clock())  # fmt: skip
    return render(request, "fragments/replied.html", actor,
                  reply=_shown(done, reply_document(done)))  # fmt: skip


def _shown(reply: StoredReply, document: dict[str, Any]) -> dict[str, Any]:
    """A reply as the page shows it: the API's document, with when it came on the desk's
    clock."""
    local = reply.received_at.astimezone(desk_zone())
    return {**document, "received_local": local.strftime("%Y-%m-%d %H:%M")}

"""`arrears replies` and `arrears reply`: borrowers' replies to texts waiting to be read, and
a person's reading of one (docs/CHANNELS.md, "Replies")."""

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from arrears.domain.replies import OPTED_OUT, READ, REPLY_STATES, TO_READ
from arrears.domain.staff import CONSOLE
from arrears.entrypoints.cli_common import Config, Db, Json, err, fail, on_one_line, open_app
from arrears.entrypoints.presenters import reply_documents
from arrears.services.replies import ReplyRefused, read_by_hand


def replies_command(
    state: Annotated[
        str,
        typer.Option("--state", help="to_read (the default), opted_out, read, or all."),
    ] = TO_READ,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """List borrowers' replies to texts, oldest first: by default those waiting to be read
    (any reply that did not opt out at once: an opt-out word alone, or a pack's `anywhere`
    word in it; `word` names an opt-out word one mentions; `honour by` the last day to
    honour one that asks to stop, where the borrowers' pack sets one). The number is masked;
    the borrowers on it are named."""
    if state != "all" and state not in REPLY_STATES:
        fail(f"--state {state!r}: expected one of {', '.join((*REPLY_STATES, 'all'))}", 2)
    states = REPLY_STATES if state == "all" else (state,)
    with open_app(db, config) as app:
        found = reply_documents(app, app.replies.replies(states, limit))
    if as_json:
        print(json.dumps(found, ensure_ascii=False))
        return
    for r in found:
        said = on_one_line(r["text"])
        mentions = f"\tmentions {r['word']}" if r["state"] == TO_READ and r["word"] else ""
        due = f"\thonour by {r['honour_by']}" if r["honour_by"] else ""
        borrowers = ",".join(r["borrower_ids"]) or "-"
        print(f"{r['reply_id']}\t{r['received_at']}\t{r['number']}\t{borrowers}\t"
              f"{r['state']}{mentions}{due}\t{said}")  # fmt: skip
    err.print(f"{len(found)} repl{'y' if len(found) == 1 else 'ies'}", markup=False)


def reply_command(
    # A number the database's ids can hold (past them: a traceback from the driver, helper-117).
    reply_id: Annotated[
        int,
        typer.Argument(help="The reply read (its id in `arrears replies`).", min=1, max=2**31 - 1),
    ],
    stop: Annotated[
        str,
        typer.Option("--stop", help="Does it ask for no more texts: yes or no."),
    ],
    db: Db = None,
    config: Config = None,
) -> None:
    """Record a person's reading of a reply waiting to be read (audited `reply.read`):
    --stop yes opts every borrower on its number out of texts from when it came, --stop no
    marks it read. Exit 1 when no such reply waits, or for --stop yes when no borrower is on
    its number."""
    if stop not in ("yes", "no"):
        fail(f"--stop: {stop!r} is not yes or no", 2)
    with open_app(db, config) as app:
        try:
            done = read_by_hand(app.replies, reply_id, stop == "yes", CONSOLE, datetime.now(UTC))
        except ReplyRefused as error:
            fail(str(error))
    if done.state == OPTED_OUT:
        print(f"reply {reply_id}: read; {', '.join(done.borrower_ids)} opted out of sms from "
              f"{done.received_at.isoformat()}")  # fmt: skip
    else:
        assert done.state == READ
        print(f"reply {reply_id}: read, no opt-out")

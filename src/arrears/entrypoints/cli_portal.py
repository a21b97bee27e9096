"""`arrears portal link`: a one-time link into the borrower portal, for the lender to send the
borrower (docs/PORTAL.md)."""

import json
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

import typer

from arrears.domain.errors import Refusal
from arrears.domain.staff import CONSOLE
from arrears.entrypoints.cli_common import Config, Db, Json, err, fail, open_app
from arrears.services.portal import LINK_MINUTES, LINK_MINUTES_MAX, issue_link

portal_app = typer.Typer(help="The borrower portal: links that let a borrower in.",
                         no_args_is_help=True, rich_markup_mode=None)  # fmt: skip


@portal_app.command("link")
def link_command(
    borrower_id: Annotated[str, typer.Argument(help="The borrower the link lets in.")],
    minutes: Annotated[
        int,
        typer.Option("--minutes", help=f"How long it opens (1 to {LINK_MINUTES_MAX}); once."),
    ] = LINK_MINUTES,
    url: Annotated[
        str, typer.Option("--url", help="The portal's address as the borrower reaches it.")
    ] = "http://127.0.0.1:8000",
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Print a link that opens the borrower's own loans once, within --minutes; it is kept
    only as its digest (print it to the one who sends it, nowhere else); audited."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        fail(f"--url {url!r}: expected an http:// or https:// address", 2)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        fail(f"--url {url!r}: the portal's address takes no ?query or #fragment", 2)
    base = url.rstrip("/")
    with open_app(db, config) as app:
        try:
            token, until = issue_link(app.portal, borrower_id, minutes, datetime.now(UTC), CONSOLE)
        except Refusal as refused:
            fail(str(refused))
    link = f"{base}/p/{token}"
    if as_json:
        print(json.dumps({"borrower_id": borrower_id, "url": link,
                          "expires_at": until.isoformat()}))  # fmt: skip
        return
    print(link)
    err.print(f"opens once, until {until.isoformat(timespec='seconds')}", markup=False)

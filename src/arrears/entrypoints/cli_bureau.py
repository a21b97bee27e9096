"""`arrears bureau …`: a month's credit-bureau records of a jurisdiction's loans, in a file for
the lender's bureau gateway, and borrowers' disputes of them (docs/BUREAU.md)."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.domain.bureau import month_of
from arrears.domain.bureau_disputes import OVERDUE, Dispute
from arrears.domain.errors import DomainError
from arrears.domain.rule_pack import RulePack
from arrears.entrypoints.bureau_file import export_to_file
from arrears.entrypoints.cli_common import Config, Db, Json, err, fail, open_app, parse_day
from arrears.services.bureau_disputes import answer_dispute, local_day, open_dispute
from arrears.services.bureau_export import BureauExport

bureau_app = typer.Typer(
    help="Credit-bureau reporting: each month's records of the loans (征信报送).",
    no_args_is_help=True,
    rich_markup_mode=None,  # help is text: "[channels]" must print as written
)


@bureau_app.command("export")
def export_command(
    pack: Annotated[str, typer.Option("--pack", help="The jurisdiction reported: cn, us, uk.")],
    month: Annotated[str, typer.Option("--month", help="The month reported, YYYY-MM.")],
    to: Annotated[Path, typer.Option("--out", help="The file written (CSV, UTF-8).")],
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Make the month's record of every loan of the pack's jurisdiction lent by its end and
    not closed before it (the domain's evaluation of its last day), each with its 24-month
    grid; store them (in place of an earlier export of the month) and write those furnished
    to --out. A record the pack's rule withholds is stored and listed, not written."""
    try:
        month_of(month)
    except DomainError as error:
        fail(f"--month: {error}", 2)
    if not to.parent.is_dir():
        fail(f"--out {to}: no directory {to.parent}", 2)
    if to.is_dir():
        fail(f"--out {to}: a directory, not a file", 2)
    with open_app(db, config) as app:
        packs = app.contact_terms.packs
        if pack not in packs:
            fail(f"--pack: no pack {pack!r}; the packs are {', '.join(sorted(packs))}", 2)
        try:
            export = export_to_file(app, pack, month, to, datetime.now(UTC))
        except DomainError as error:
            fail(str(error))
    _report(export, to, as_json)


def _report(export: BureauExport, to: Path, as_json: bool) -> None:
    """What was furnished, by status, and each record withheld with its rule and why."""
    month = export.month.strftime("%Y-%m")
    source = export.rule.cited if export.rule else None
    if as_json:
        document: dict[str, Any] = {
            "pack": export.jurisdiction, "month": month, "file": str(to),
            "furnished": len(export.furnished), "by_status": export.by_status(),
            "withheld": [{"loan_id": f.record.loan_id, "rule": f.withheld_rule,
                          "source": source, "detail": f.withheld_detail}
                         for f in export.withheld],
        }  # fmt: skip
        print(json.dumps(document, ensure_ascii=False))
    else:
        _print_report(export, to, source)
    if export.withheld and export.rule is not None:  # with --json too (helper-114)
        err.print(f"{len(export.withheld)} record(s) withheld under {export.rule.rule_id}",
                  highlight=False)  # fmt: skip


def _print_report(export: BureauExport, to: Path, source: str | None) -> None:
    """The export as text: what was furnished, by status, and each record withheld."""
    month = export.month.strftime("%Y-%m")
    counts = ", ".join(f"{status} {n}" for status, n in export.by_status().items())
    # Plain print: a path is not wrapped at the terminal's width for a script to read.
    print(f"{month} {export.jurisdiction}: {len(export.furnished)} furnished"
          + (f" ({counts})" if counts else "") + f" to {to}")  # fmt: skip
    for f in export.withheld:
        print(f"withheld\t{f.record.loan_id}\t{f.withheld_rule}\t{f.withheld_detail} [{source}]")


@bureau_app.command("dispute")
def dispute_command(
    loan_id: Annotated[str, typer.Option("--loan", help="The loan whose record is disputed.")],
    month: Annotated[str, typer.Option("--month", help="The disputed record's month, YYYY-MM.")],
    reason: Annotated[str, typer.Option("--reason", help="What the borrower says is wrong.")],
    received: Annotated[
        str | None,
        typer.Option("--received", help="The day it was received, YYYY-MM-DD (default: today)."),
    ] = None,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Record a borrower's dispute of a furnished record, with the day the rule of the pack it
    was furnished under says it is answered by (the cn pack: 20 days after its receipt)."""
    try:
        month_of(month)
    except DomainError as error:
        fail(f"--month: {error}", 2)
    received_on = parse_day(received, "--received") if received is not None else None
    now = datetime.now(UTC)
    with open_app(db, config) as app:
        if app.desk.product_of(loan_id) is None:
            fail(f"--loan: no loan {loan_id!r}", 2)
        packs = app.contact_terms.packs
        try:
            found = open_dispute(app.bureau, packs, loan_id, month, received_on, reason, now)
        except DomainError as error:
            fail(str(error))
    _print_disputes([found], packs, now, as_json, one=True)


@bureau_app.command("answer")
def answer_command(
    dispute_id: Annotated[int, typer.Argument(help="The dispute's number.", min=1, max=2**31 - 1)],
    outcome: Annotated[
        str, typer.Option("--outcome", help="What the check found: corrected or upheld.")
    ],
    note: Annotated[str, typer.Option("--note", help="The answer given to the borrower.")],
    on: Annotated[
        str | None,
        typer.Option("--on", help="The day it was answered, YYYY-MM-DD (default: today)."),
    ] = None,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Answer a dispute (a record corrected is exported again: `bureau export` of its month)."""
    answered_on = parse_day(on, "--on") if on is not None else None
    now = datetime.now(UTC)
    with open_app(db, config) as app:
        if app.bureau.dispute(dispute_id) is None:
            fail(f"no dispute {dispute_id}", 2)
        packs = app.contact_terms.packs
        try:
            found = answer_dispute(app.bureau, packs, dispute_id, outcome, note, answered_on,
                                   now)  # fmt: skip
        except DomainError as error:
            fail(str(error))
    _print_disputes([found], packs, now, as_json, one=True)


@bureau_app.command("disputes")
def disputes_command(
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Every dispute with the day it is answered by and where it stands (open, overdue,
    answered, answered_late) on today in its pack's zone; the overdue ones counted on
    stderr."""
    now = datetime.now(UTC)
    with open_app(db, config) as app:
        found = app.bureau.disputes()
        packs = app.contact_terms.packs
    _print_disputes(found, packs, now, as_json)
    overdue = [d for d in found if d.state(local_day(packs[d.jurisdiction], now)) == OVERDUE]
    if overdue:
        err.print(f"{len(overdue)} dispute(s) past the day they are answered by", highlight=False)


def _print_disputes(
    found: list[Dispute], packs: Mapping[str, RulePack], now: datetime, as_json: bool, *,
    one: bool = False,
) -> None:  # fmt: skip
    """Disputes a line each (or one JSON document), with where each stands today in the zone
    of the pack its record was furnished under."""
    documents = [
        {"dispute_id": d.dispute_id, "loan_id": d.loan_id, "month": d.month.strftime("%Y-%m"),
         "jurisdiction": d.jurisdiction, "rule": d.rule,
         "received_on": d.received_on.isoformat(), "due_on": d.due_on.isoformat(),
         "state": d.state(local_day(packs[d.jurisdiction], now)), "reason": d.reason,
         "answered_on": d.answered_on.isoformat() if d.answered_on else None,
         "outcome": d.outcome, "answer": d.answer}
        for d in found
    ]  # fmt: skip
    if as_json:
        print(json.dumps(documents[0] if one else {"disputes": documents}, ensure_ascii=False))
        return
    for doc in documents:
        print("\t".join(str(doc[k] or "-") for k in ("dispute_id", "loan_id", "month",
              "received_on", "due_on", "state", "outcome")))  # fmt: skip

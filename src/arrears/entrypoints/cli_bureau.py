"""`arrears bureau export`: a month's credit-bureau records of a jurisdiction's loans, in a
file for the lender's bureau gateway (docs/BUREAU.md)."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.domain.bureau import month_of
from arrears.domain.errors import DomainError
from arrears.entrypoints.bureau_file import export_to_file
from arrears.entrypoints.cli_common import Config, Db, Json, err, fail, open_app
from arrears.services.bureau_export import BureauExport

bureau_app = typer.Typer(
    help="Credit-bureau reporting: each month's records of the loans (征信报送).",
    no_args_is_help=True,
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
    not settled before it (the domain's evaluation of its last day), each with its 24-month
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
        return
    counts = ", ".join(f"{status} {n}" for status, n in export.by_status().items())
    # Plain print: a path is not wrapped at the terminal's width for a script to read.
    print(f"{month} {export.jurisdiction}: {len(export.furnished)} furnished"
          + (f" ({counts})" if counts else "") + f" to {to}")  # fmt: skip
    for f in export.withheld:
        print(f"withheld\t{f.record.loan_id}\t{f.withheld_rule}\t{f.withheld_detail} [{source}]")
    if export.withheld and export.rule is not None:
        err.print(f"{len(export.withheld)} record(s) withheld under {export.rule.rule_id}",
                  highlight=False)  # fmt: skip

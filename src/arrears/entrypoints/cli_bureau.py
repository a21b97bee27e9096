"""`arrears bureau export`: a month's credit-bureau records of a jurisdiction's loans, in a
file for the lender's bureau gateway (docs/BUREAU.md)."""

import csv
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.domain.bureau import month_of
from arrears.domain.errors import DomainError
from arrears.domain.money import format_amount
from arrears.entrypoints.cli_common import Config, Db, Json, err, fail, open_app, out
from arrears.services.bureau_export import BureauExport, export_month

bureau_app = typer.Typer(
    help="Credit-bureau reporting: each month's records of the loans (征信报送).",
    no_args_is_help=True,
)
# The file's columns, one line per record furnished (amounts in the loan's currency, yuan
# with two decimals as every amount of the contract).
COLUMNS = (
    "month", "loan_id", "borrower_id", "currency", "status", "grid", "dpd", "balance",
    "overdue", "overdue_principal", "overdue_lines", "due_in_month", "paid_in_month",
    "last_paid_on",
)  # fmt: skip


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
    with open_app(db, config) as app:
        packs = app.contact_terms.packs
        if pack not in packs:
            fail(f"--pack: no pack {pack!r}; the packs are {', '.join(sorted(packs))}", 2)
        jurisdiction_of = {c: p.jurisdiction for c, p in app.settings.products.items()}
        book = (
            (loan, payments)
            for loan, payments in app.ledger.load_book()
            if jurisdiction_of.get(loan.product) == pack
        )
        staged = _staged(to)
        try:
            try:
                export = export_month(
                    book, app.evaluate, app.bureau, packs[pack].bureau, pack, month,
                    app.runs.last_run(), packs[pack].default_zone, datetime.now(UTC),
                )  # fmt: skip
            except DomainError as error:
                fail(str(error))
            _write(staged, export)
            os.replace(staged, to)
        finally:
            staged.unlink(missing_ok=True)
    _report(export, to, as_json)


def _staged(to: Path) -> Path:
    """A new file beside --out, renamed over it once the export is stored (readable by its
    owner only, as mkstemp makes it: it holds credit data)."""
    handle, name = tempfile.mkstemp(prefix=f".{to.name}.", dir=to.parent)
    os.close(handle)
    return Path(name)


def _write(path: Path, export: BureauExport) -> None:
    """The records furnished, a CSV line each, flushed to disk."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for f in export.furnished:
            r = f.record
            writer.writerow([
                r.month.strftime("%Y-%m"), r.loan_id, r.borrower_id, f.currency, r.status,
                f.grid, r.dpd, format_amount(r.balance), format_amount(r.overdue),
                format_amount(r.overdue_principal), r.overdue_lines,
                format_amount(r.due_in_month), format_amount(r.paid_in_month),
                r.last_paid_on.isoformat() if r.last_paid_on else "",
            ])  # fmt: skip
        handle.flush()
        os.fsync(handle.fileno())


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
    out.print(f"{month} {export.jurisdiction}: {len(export.furnished)} furnished"
              + (f" ({counts})" if counts else "") + f" to {to}", highlight=False)  # fmt: skip
    for f in export.withheld:
        print(f"withheld\t{f.record.loan_id}\t{f.withheld_rule}\t{f.withheld_detail} [{source}]")
    if export.withheld and export.rule is not None:
        err.print(f"{len(export.withheld)} record(s) withheld under {export.rule.rule_id}",
                  highlight=False)  # fmt: skip

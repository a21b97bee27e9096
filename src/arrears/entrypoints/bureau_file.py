"""A month's credit-bureau export of a pack's loans, stored and written to a file for the
lender's bureau gateway (`arrears bureau export`, the demo; docs/BUREAU.md)."""

import csv
import os
import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from arrears.bootstrap import App
from arrears.domain.loan import Loan, Payment
from arrears.domain.money import format_amount
from arrears.domain.statement import LoanState
from arrears.services.bureau_export import BureauExport, make_month, store_month

# The file's columns, one line per record furnished (amounts in the loan's currency, with two
# decimals as every amount of the contract).
COLUMNS = (
    "month", "loan_id", "borrower_id", "currency", "status", "grid", "dpd", "balance",
    "overdue", "overdue_principal", "overdue_lines", "due_in_month", "paid_in_month",
    "last_paid_on",
)  # fmt: skip


def export_to_file(app: App, pack: str, month: str, to: Path, now: datetime) -> BureauExport:
    """Make the month's records of the pack's loans, write those furnished beside `to`, and
    store them all, the file put in place just before they are committed: a refusal or a
    failure leaves neither (a crash between the rename and the commit would leave the file
    of an export not stored: exporting the month again mends it)."""
    rules = app.contact_terms.packs[pack]
    products = {c for c, p in app.settings.products.items() if p.jurisdiction == pack}
    revisions = app.desk.revisions_by_loan()  # one query, not one a loan

    def evaluate(loan: Loan, payments: list[Payment], on: date) -> LoanState:
        return app.evaluate(loan, payments, on, revisions.get(loan.loan_id, ()))

    book = ((loan, paid) for loan, paid in app.ledger.load_book() if loan.product in products)
    today = now.astimezone(ZoneInfo(rules.default_zone)).date()
    export = make_month(book, evaluate, app.bureau, rules.bureau, pack, month,
                        app.runs.last_run(), rules.default_zone, today)  # fmt: skip
    staged = _staged(to)
    try:
        _write(staged, export)
        store_month(app.bureau, export, now, lambda: os.replace(staged, to))
    finally:
        staged.unlink(missing_ok=True)
    return export


def _staged(to: Path) -> Path:
    """A new file beside `to`, renamed over it once the export is stored (readable by its
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

"""The audit log as a file: JSON lines (exact: the chain verifies again outside the
application) or CSV for reading (one entry a line, both hashes, formulas made inert)."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from arrears.domain.audit_chain import ChainedEntry

COLUMNS = ("seq", "at", "actor", "action", "subject", "detail", "prev_hash", "hash")


def audit_lines(entries: Iterable[ChainedEntry], form: str) -> Iterator[str]:
    """The entries as text lines in the format asked (`jsonl` or `csv`)."""
    if form == "csv":
        yield _csv_line(COLUMNS)
    for chained in entries:
        entry = chained.entry
        row = {
            "seq": chained.seq, "at": entry.at.isoformat(timespec="microseconds"),
            "actor": entry.actor, "action": entry.action, "subject": entry.subject,
            "detail": entry.detail, "prev_hash": chained.prev_hash, "hash": chained.hash,
        }  # fmt: skip
        if form == "csv":
            detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
            yield _csv_line([str(row[c]) if c != "detail" else detail for c in COLUMNS])
        else:
            yield json.dumps(row, ensure_ascii=False) + "\n"


def _csv_line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(_inert(str(v)) for v in values)
    return buffer.getvalue()


def _inert(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): text that a
    spreadsheet reads as one (= + - @, tab, carriage return) gets a leading quote. The JSON
    lines export stays exact, for verifying the chain."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell

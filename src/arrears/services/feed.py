"""What a feed is to the use cases: its kinds, the errors found in it, the rejection of a file."""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

FeedKind = Literal["borrowers", "contacts", "loans", "installments", "payments"]
FEED_KINDS: tuple[FeedKind, ...] = get_args(FeedKind)

# A file with a million bad rows must not print a million lines.
MAX_SHOWN_ERRORS = 1000


@dataclass(frozen=True)
class FeedError:
    """One reason to refuse a file: its row (header = 1; None for the whole file) and column."""

    row: int | None
    column: str | None
    message: str

    def describe(self, file_name: str) -> str:
        """Say where and what, e.g. 'payments.csv row 7, column amount: -5.00 is negative'."""
        where = file_name if self.row is None else f"{file_name} row {self.row}"
        if self.column is not None:
            where = f"{where}, column {self.column}"
        return f"{where}: {self.message}"


class FeedRejected(Exception):
    """A feed file refused as a whole: nothing of it was written."""

    def __init__(
        self, kind: FeedKind, path: Path, errors: list[FeedError], total: int | None = None
    ) -> None:
        """Keep the errors (the first ones, sorted by row) and how many were found in all."""
        self.kind = kind
        self.path = path
        self.errors = sorted(errors, key=_error_order)[:MAX_SHOWN_ERRORS]
        self.total = max(total or 0, len(errors))
        super().__init__(str(self))

    def __str__(self) -> str:
        """Every kept error on its own line, then how many more there were."""
        lines = [f"{self.path.name}: {self.kind} feed refused, nothing imported"]
        lines += [error.describe(self.path.name) for error in self.errors]
        if self.total > len(self.errors):
            lines.append(f"and {self.total - len(self.errors)} more errors")
        return "\n".join(lines)


def _error_order(error: FeedError) -> int:
    """File-level errors first, then by row (a row keeps its errors in the order found)."""
    return error.row or 0

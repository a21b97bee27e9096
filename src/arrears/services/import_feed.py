"""Use case: import one feed file, all or nothing (check every row first, then write at once)."""

from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

from arrears.domain.terms import Pricing
from arrears.services.feed import FeedError, FeedKind, FeedRejected
from arrears.services.ports import (
    FeedReader,
    FeedRows,
    LedgerStore,
    Progress,
    StoreConflict,
    StoredCheck,
    StoredKeys,
)


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows in the file, rows written, payments already stored and skipped."""

    kind: FeedKind
    rows_read: int
    inserted: int
    skipped_duplicates: int


def import_feed(
    store: LedgerStore,
    reader: FeedReader,
    kind: FeedKind,
    path: Path,
    known_products: Set[str],
    progress: Progress | None = None,
    pricing: Pricing | None = None,
    phone_region: str = "CN",
) -> ImportReport:
    """Check the whole file against itself and the store, then write it in one transaction.

    Raises FeedRejected (naming every bad row and column) when anything is wrong; then nothing of
    the file is written. `progress(done, total)` counts each row once read and once written;
    a loan no run could price under `pricing` (its cap unresolved, its arithmetic past Int64)
    is refused by row; a phone number written without +country code is read as a number of
    `phone_region` (ISO 3166; the feeds' default is China's).
    """
    report = _Progress(progress)
    feed = reader.read(kind, path, known_products, report.reading, pricing, phone_region)
    written: list[StoredCheck] = []

    def rows_of(stored: StoredKeys) -> FeedRows:
        """The rows to write, checked against the store as the write sees it."""
        checked = feed.check_stored(stored)
        errors = feed.errors + checked.errors
        if errors:
            raise FeedRejected(kind, path, errors, feed.error_count + checked.error_count)
        report.start_writing(feed.rows_read, len(checked.rows))
        written.append(checked)
        return checked.rows

    try:
        # Checked and written in one transaction: what the check read of the store (the
        # principal a loan's stored instalments schedule, say) stays so until the rows are in.
        store.write_feed(feed.key_query(), rows_of, report.writing)
    except StoreConflict as conflict:
        raise FeedRejected(kind, path, [_conflict_error(conflict)]) from conflict
    [checked] = written
    report.writing(len(checked.rows))
    return ImportReport(kind, feed.rows_read, len(checked.rows), checked.skipped)


def _conflict_error(conflict: StoreConflict) -> FeedError:
    """A file-level error for a clash with a concurrent writer."""
    return FeedError(None, None, f"{conflict} (another import ran at the same time; run it again)")


class _Progress:
    """Turns reading and writing progress into one bar: each row counts once read, once written."""

    def __init__(self, progress: Progress | None) -> None:
        """Wrap the caller's callback (or none)."""
        self._progress = progress
        self._read = 0
        self._to_write = 0

    def reading(self, done: int, total: int) -> None:
        """Rows read so far against the rows expected (each to be written too)."""
        if self._progress is not None:
            self._progress(done, 2 * max(total, done))

    def start_writing(self, rows_read: int, to_write: int) -> None:
        """Reading is over; rows skipped as already stored will not be written."""
        self._read, self._to_write = rows_read, to_write
        self.writing(0)

    def writing(self, done: int) -> None:
        """Rows written so far."""
        if self._progress is not None:
            self._progress(self._read + done, self._read + self._to_write)

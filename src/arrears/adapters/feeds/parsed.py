"""A parsed feed held as one typed Polars frame: the ParsedFeed and FeedRows of the import port."""

from collections.abc import Iterator

import polars as pl

from arrears.adapters.feeds.error_log import ErrorLog
from arrears.adapters.feeds.specs import FeedSpec
from arrears.adapters.feeds.stored_checks import CHECKS
from arrears.services.feed import FeedError, FeedKind
from arrears.services.ports import KeyQuery, StoredCheck, StoredKeys

ROW = "_row"  # the file row number of each parsed row


class FrameRows:
    """Checked rows as a typed frame in table column order, handed out as tuples in chunks."""

    def __init__(self, kind: FeedKind, frame: pl.DataFrame) -> None:
        """Wrap a frame holding exactly the table's columns."""
        self._kind = kind
        self._frame = frame

    @property
    def kind(self) -> FeedKind:
        """The feed kind, which names the table."""
        return self._kind

    @property
    def columns(self) -> tuple[str, ...]:
        """The table columns each tuple fills, in order."""
        return tuple(self._frame.columns)

    def __len__(self) -> int:
        """How many rows will be written."""
        return self._frame.height

    def chunks(self, size: int, *, iso_dates: bool = False) -> Iterator[list[tuple[object, ...]]]:
        """Rows in chunks of `size` (Python objects are made one chunk at a time)."""
        frame = self._frame
        if iso_dates:
            frame = frame.with_columns(pl.col(pl.Date).cast(pl.String))
        for offset in range(0, frame.height, size):
            yield frame.slice(offset, size).rows()


class FrameFeed:
    """A whole feed file parsed into one frame, with the errors found in the file alone."""

    def __init__(self, spec: FeedSpec, frame: pl.DataFrame, log: ErrorLog) -> None:
        """Hold the parsed rows (with their file row numbers) and the file's errors."""
        self._spec = spec
        self._frame = frame
        self._log = log

    @property
    def kind(self) -> FeedKind:
        """The feed kind."""
        return self._spec.kind

    @property
    def rows_read(self) -> int:
        """Data rows in the file (blank lines not counted)."""
        return self._frame.height

    @property
    def errors(self) -> list[FeedError]:
        """Errors found in the file alone (the earliest rows', if there are many)."""
        return self._log.errors

    @property
    def error_count(self) -> int:
        """How many errors the file alone has."""
        return self._log.count

    @property
    def frame(self) -> pl.DataFrame:
        """The parsed rows: the table's columns and the file row number (`_row`)."""
        return self._frame

    def key_query(self) -> KeyQuery:
        """The stored keys validation needs to see, by feed kind."""
        columns = self._frame.columns

        def ids(column: str) -> frozenset[str]:
            """The distinct ids of a column of this feed (none if it has no such column)."""
            if column not in columns:
                return frozenset()
            return frozenset(self._frame[column].drop_nulls().unique().to_list())

        kind = self.kind
        return KeyQuery(
            borrowers=ids("borrower_id"),
            contacts=ids("contact_id"),
            loans=ids("loan_id"),
            installments_of=ids("loan_id") if kind == "installments" else frozenset(),
            payments=ids("payment_id"),
        )

    def check_stored(self, stored: StoredKeys) -> StoredCheck:
        """Check references and key clashes against the store; say what is left to write."""
        log = ErrorLog()
        keep = CHECKS[self.kind](self._frame, stored, log)
        rows = self._frame.filter(keep).select(self._spec.names)
        skipped = self._frame.height - rows.height
        return StoredCheck(log.errors, log.count, FrameRows(self.kind, rows), skipped)

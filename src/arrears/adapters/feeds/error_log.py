"""Errors found in a feed: all counted, the earliest rows kept (a bad file can have millions)."""

import polars as pl

from arrears.services.feed import MAX_SHOWN_ERRORS, FeedError


class ErrorLog:
    """Collects errors column by column; keeps those of the earliest rows, counts them all."""

    def __init__(self, limit: int = MAX_SHOWN_ERRORS) -> None:
        """Keep at most `limit` errors."""
        self.limit = limit
        self.count = 0
        self._kept: list[FeedError] = []

    def add(self, error: FeedError) -> None:
        """Record one error."""
        self.count += 1
        self._kept.append(error)
        self._trim()

    def add_cells(self, rows: pl.Series, column: str, messages: pl.Series) -> None:
        """Record the non-null messages of a column, each at its row."""
        bad = messages.is_not_null()
        found = int(bad.sum())
        if not found:
            return
        self.count += found
        picked = pl.DataFrame({"row": rows, "message": messages}).filter(bad).head(self.limit)
        self._kept += [FeedError(row, column, message) for row, message in picked.iter_rows()]
        self._trim()

    @property
    def errors(self) -> list[FeedError]:
        """The kept errors, by row."""
        self._trim(force=True)
        return list(self._kept)

    def _trim(self, *, force: bool = False) -> None:
        """Keep only the earliest rows' errors once the list has grown well past the limit."""
        if force or len(self._kept) > 2 * self.limit:
            self._kept.sort(key=lambda error: error.row or 0)
            del self._kept[self.limit :]

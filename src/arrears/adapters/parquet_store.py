"""The columnar run's store over a folder of Parquet files (batch.ports.EngineStore)."""

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from arrears.adapters.book_folder import BookFolder, write_table
from arrears.adapters.book_tables import STATE, assemble, outputs
from arrears.adapters.compliance_pack import contact_packs
from arrears.batch.pipeline import RunFrames
from arrears.domain.terms import Terms


def pack_zones() -> dict[str, str]:
    """Each jurisdiction's default zone, from the shipped contact rule packs."""
    return {code: pack.default_zone for code, pack in contact_packs().items()}


class ParquetEngineStore:
    """Implements batch.ports.EngineStore over a book folder (see book_folder for the layout).

    `load` for a day starts from the state of the latest run before that day, so re-running
    the latest day recomputes it from the same state and replaces it (same result, unless the
    inputs changed since).
    """

    def __init__(self, directory: Path, default_zones: Mapping[str, str] | None = None) -> None:
        self.folder = BookFolder(directory)
        self.default_zones = dict(default_zones) if default_zones is not None else pack_zones()
        self._payments: pl.DataFrame | None = None

    def last_run(self, before: date | None = None) -> date | None:
        """The latest completed run's date (strictly before `before` when given)."""
        days = [r.as_of for r in self.folder.runs() if before is None or r.as_of < before]
        return days[-1] if days else None

    def run_summary(self, as_of: date) -> dict[str, Any] | None:
        """The stored summary of the run for `as_of`."""
        found = [r.summary for r in self.folder.runs() if r.as_of == as_of]
        return found[0] if found else None

    def state_of(self, as_of: date) -> dict[str, pl.DataFrame]:
        """The stored state a run for `as_of` starts from (empty before the first run)."""
        base = self.folder.run_before(as_of)
        if base is None:
            return {}
        state = {name: self.folder.read_table(base, name) for name in STATE}
        state["done"] = self.folder.done_actions(as_of)
        return state

    def load(self, as_of: date, terms: Terms) -> RunFrames:
        """The book with its state, people, history, cases and promises."""
        inputs = self.folder.read_inputs()
        self._payments = inputs["payments"]
        return assemble(inputs, self.state_of(as_of), as_of, terms, self.default_zones)

    def save(self, frames: RunFrames, as_of: date, summary: dict[str, Any], at: datetime) -> None:
        """Write the run's tables into a new folder and commit it (all or nothing)."""
        payments = self._payments if self._payments is not None else frames.book.payments
        folder = self.folder.begin(as_of)
        for name, frame in outputs(frames, payments).items():
            write_table(folder, name, frame)
        self.folder.commit(folder, as_of, at, frames.book.loans.height, summary)

    def table(self, as_of: date, name: str) -> pl.DataFrame:
        """One table written by the run of `as_of` (for reports and comparisons)."""
        found = [r for r in self.folder.runs() if r.as_of == as_of]
        if not found:
            raise KeyError(f"no run for {as_of}")
        return self.folder.read_table(found[0], name)

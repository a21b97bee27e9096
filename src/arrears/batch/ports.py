"""What the columnar run needs from a store (implemented by adapters: SQL, Parquet)."""

from datetime import date, datetime
from typing import Any, Protocol

from arrears.batch.pipeline import RunContext, RunFrames


class EngineStore(Protocol):
    """Loads the run's frames in bulk and saves its results in one transaction."""

    def last_run(self, before: date | None = None) -> date | None:
        """The latest completed run's date (strictly before `before` when given)."""
        ...

    def run_summary(self, as_of: date) -> dict[str, Any] | None:
        """The stored summary of the run for `as_of`."""
        ...

    def load(self, ctx: RunContext) -> RunFrames:
        """The book with its state, people, history, cases and promises for ctx.as_of."""
        ...

    def progress(self, step: str, frames: RunFrames) -> None:
        """The frames after the pipeline step named `step` (pipeline.PIPELINE): a store may
        begin writing what is final already (save finishes it; a store that writes
        everything in save ignores this)."""
        ...

    def abandon(self) -> None:
        """The run failed after load: drop whatever was begun (waiting for it to stop)."""
        ...

    def save(self, frames: RunFrames, as_of: date, summary: dict[str, Any], at: datetime) -> None:
        """Write state, postings, snapshot, plan and the run record, all or nothing."""
        ...
